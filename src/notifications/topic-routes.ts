import { Router } from 'express';
import { notFound } from '../fhir/outcome.js';
import { searchset } from '../fhir/searchset.js';
import { sendFhir } from '../http/body.js';
import type { Services } from '../services.js';
import { basicTopic, subscriptionTopic } from './topic-resources.js';
import { TOPICS, topicById } from './topics.js';

/** Topic discovery, as SubscriptionTopic and as Basic; no credentials needed (topics hold no data). */
export function topicRoutes(s: Pick<Services, 'config'>): Router {
  const r = Router();
  const base = s.config.publicBaseUrl;
  r.get('/fhir/SubscriptionTopic', (req, res) => {
    const url = typeof req.query.url === 'string' ? req.query.url : undefined;
    const topics = TOPICS.filter((t) => url === undefined || t.url === url).map(subscriptionTopic);
    sendFhir(res, 200, searchset(base, 'SubscriptionTopic', topics));
  });
  r.get('/fhir/SubscriptionTopic/:id', (req, res) => {
    const t = topicById(String(req.params.id));
    if (!t) throw notFound('No such SubscriptionTopic');
    sendFhir(res, 200, subscriptionTopic(t));
  });
  r.get('/fhir/Basic', (req, res) => {
    const code = typeof req.query.code === 'string' ? req.query.code : undefined;
    const wanted = code === undefined || code === 'SubscriptionTopic' || code === 'http://hl7.org/fhir/fhir-types|SubscriptionTopic';
    const topics = wanted ? TOPICS.map(basicTopic) : [];
    sendFhir(res, 200, searchset(base, 'Basic', topics));
  });
  r.get('/fhir/Basic/:id', (req, res) => {
    const t = topicById(String(req.params.id));
    if (!t) throw notFound('No such Basic resource');
    sendFhir(res, 200, basicTopic(t));
  });
  return r;
}
