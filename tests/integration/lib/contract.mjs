// The OpenAPI contract check applied to every response the suite gets through Service.req()
// (lib/server.mjs): the route, method and status must be documented, and a JSON body must match
// the documented schema (openapi/openapi.yaml, validated with ajv after swagger-parser resolves
// the references). So the document cannot drift from the code without a test failing.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.resolve(here, '../../tools/package.json'));
const DOC = path.resolve(here, '../../../openapi/openapi.yaml');

let loaded;

async function load() {
  const SwaggerParser = require('@apidevtools/swagger-parser');
  const Ajv = require('ajv');
  const api = await SwaggerParser.dereference(DOC);
  // OpenAPI 3.0 keywords ajv does not know (example, format names) are ignored; `nullable` it
  // understands.
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const routes = Object.entries(api.paths).map(([template, item]) => {
    const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g,
      (_, name) => (name === 'key' || name === 'path' ? '(.+)' : '([^/]+)'))}$`);
    return { template, item, re, params: names.length };
  });
  // Literal paths first, then by specificity.
  routes.sort((a, b) => a.params - b.params || b.template.length - a.template.length);
  const validators = new Map();
  return { routes, ajv, validators, errorSchema: api.components.schemas.Error };
}

async function errorBody(key, body, contentType) {
  if (body === null || body === undefined || !(contentType ?? '').includes('json')) return null;
  const { ajv, validators, errorSchema } = await loaded;
  if (!validators.has('error')) validators.set('error', ajv.compile(errorSchema));
  const validate = validators.get('error');
  return validate(body) ? null : `${key}: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`;
}

// Returns null when the response agrees with the document, else a sentence saying how not.
export async function contractViolation(method, urlPath, status, contentType, body) {
  loaded ??= load();
  const { routes, ajv, validators } = await loaded;
  // A preflight is documented once for every path (/{path}).
  const candidates = routes.filter((r) => r.re.test(urlPath) && (method === 'OPTIONS') === (r.template === '/{path}'));
  const route = candidates[0];
  if (!route) {
    // Paths the API does not have: 404 with the SPEC error body.
    if (status !== 404) return `${method} ${urlPath}: no documented path, yet status ${status}`;
    return errorBody(`${method} (unknown path) 404`, body, contentType);
  }
  // HEAD is answered on every GET route with the GET's status and headers (the document says so
  // once, in info.description); an explicitly documented head operation wins.
  const op = route.item[method.toLowerCase()] ?? (method === 'HEAD' ? route.item.get : undefined);
  if (!op) {
    // A method the path does not have: 405 with the SPEC error body (and Allow).
    if (status !== 405) return `${method} ${route.template}: method not documented, yet status ${status}`;
    return errorBody(`${method} ${route.template} 405`, body, contentType);
  }
  const responses = op.responses ?? {};
  const resp = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (!resp) return `${method} ${route.template}: status ${status} not documented`;
  if (method === 'HEAD' || body === null || body === undefined) return null;
  if (!(contentType ?? '').includes('json')) return null;
  const schema = resp.content?.['application/json']?.schema;
  if (!schema) return `${method} ${route.template} ${status}: JSON body but no JSON schema documented`;
  const key = `${method} ${route.template} ${status}`;
  if (!validators.has(key)) validators.set(key, ajv.compile(schema));
  const validate = validators.get(key);
  if (validate(body)) return null;
  return `${key}: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`;
}
