// Route modules of other areas import their answers from here; they are defined at the HTTP edge.
// Libraries throw DomainError (src/errors.ts) instead.
export {
  HttpError,
  type IssueCode,
  badGateway,
  badRequest,
  businessRule,
  conflict,
  forbidden,
  gatewayTimeout,
  gone,
  issue,
  notFound,
  outcome,
  throttled,
  tooLarge,
  unauthorized,
  unprocessable,
  unsupportedMediaType,
} from '../http/http-error.js';
