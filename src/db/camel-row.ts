/** `patient_issuer` → `patientIssuer`, as a type. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** A row with its snake_case column names as camelCase field names; the values keep their types. */
export type CamelRow<R> = { [K in keyof R & string as CamelCase<K>]: R[K] };

const camelCase = (column: string) => column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * A row as a record: the columns renamed, the values as the driver returned them. Conversions a
 * field needs (NULL to undefined, a count to a number) stay with the store that knows them.
 */
export function camelRow<R extends object>(row: R): CamelRow<R> {
  return Object.fromEntries(Object.entries(row).map(([column, value]) => [camelCase(column), value])) as CamelRow<R>;
}
