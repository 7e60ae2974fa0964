import type { Json, ResourceIndex } from './fhir-read.js';

/** Where each record entry is shown on the page, so a plain sentence can link to the entries it cites. */
export class Anchors {
  private readonly byResource = new Map<Json, { id: string; name: string }>();
  private next = 0;

  constructor(private readonly index: ResourceIndex) {}

  /** A fresh element id for the resource's entry (the first registration wins). */
  register(resource: Json | undefined, name: string): string {
    const id = `record-${++this.next}`;
    if (resource && !this.byResource.has(resource)) this.byResource.set(resource, { id, name });
    return id;
  }

  find(reference: string): { id: string; name: string } | undefined {
    const resource = this.index.byUrl(reference);
    return resource ? this.byResource.get(resource) : undefined;
  }
}
