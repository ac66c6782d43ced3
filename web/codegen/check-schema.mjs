// The committed schema.graphql equals what the running server reports by introspection
// (descriptions, @specifiedBy, deprecations included). Usage: node check-schema.mjs URL TOKEN
import { readFileSync } from 'node:fs';
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema,
} from 'graphql';

const [url, token] = process.argv.slice(2);
const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true });
const response = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
});
const body = await response.json();
if (!body.data) throw new Error(`introspection failed: ${JSON.stringify(body.errors)}`);
const print = (schema) => printSchema(lexicographicSortSchema(schema));
const served = print(buildClientSchema(body.data));
const committed = print(buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8')));
if (served !== committed) {
  const a = served.split('\n'), b = committed.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  console.error(`first difference at line ${at + 1}:\n  served:    ${a[at]}\n  committed: ${b[at]}`);
  process.exit(1);
}
console.log(`schema.graphql equals the served introspection (${served.split('\n').length} lines)`);
