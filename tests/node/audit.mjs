// GraphQL-over-HTTP conformance: the graphql-http audit suite against a running server.
// Usage: node audit.mjs URL TOKEN   (exits 1 on any error or warning)
import { serverAudits } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs URL TOKEN');
  process.exit(2);
}

// Every audit request carries the bearer token: the server answers 401 to anyone else.
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  counts[result.status] += 1;
  if (result.status !== 'ok') {
    const detail = result.response ? ` (HTTP ${result.response.status})` : '';
    console.log(`${result.status.toUpperCase()} ${audit.id} ${audit.name}: ${result.reason}${detail}`);
  }
}
console.log(`graphql-http audit: ${counts.ok} ok, ${counts.notice} notices (MAY), ${counts.warn} warnings, ${counts.error} errors`);
process.exit(counts.warn + counts.error === 0 ? 0 : 1);
