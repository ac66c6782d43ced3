// Writes each GraphQL block of the README to operations/<OperationName>.graphql, so codegen
// checks the documentation's operations exactly as a front end would paste them.
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { parse } from 'graphql';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/^```graphql\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
const out = new URL('operations/', import.meta.url);
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
for (const text of blocks) {
  const operations = parse(text).definitions.filter((d) => d.kind === 'OperationDefinition');
  if (operations.length !== 1 || !operations[0].name) {
    throw new Error(`a README block must hold one named operation:\n${text}`);
  }
  writeFileSync(new URL(`${operations[0].name.value}.graphql`, out), text);
}
console.log(`${blocks.length} operations extracted from the README`);
