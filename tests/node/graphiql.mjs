// GraphiQL in a real browser with no internet: Debian chromium driven by playwright-core. No
// request may go out before a token is set; setting the administrator's token fetches the
// schema; the page runs reassignmentPreview for the demo leaver, waits for the result on screen
// and saves a screenshot; changing the token fetches the schema again, with the new token.
// Usage: node graphiql.mjs BASE_URL ADMIN_TOKEN FROM_EMAIL TO_EMAIL SCREENSHOT.png MEMBER_TOKEN
import { chromium } from 'playwright-core';

const [base, token, fromEmail, toEmail, screenshot, memberToken] = process.argv.slice(2);
async function userId(email) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'query($s: String) { users(filter: {search: $s}) { nodes { id email } } }', variables: { s: email } }),
  });
  return (await res.json()).data.users.nodes.find((u) => u.email === email).id;
}
const [fromUser, toUser] = [await userId(fromEmail), await userId(toEmail)];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
// The page runs under a strict Content-Security-Policy: anything it blocks is a failure.
const blocked = [];
page.on('console', (message) => {
  if (/Content Security Policy/i.test(message.text())) blocked.push(message.text());
});
const outside = [];
// Every GraphQL request the page sends: (operation, token).
const sent = [];
page.on('request', (request) => {
  if (!request.url().startsWith(`${base}/graphql`) || request.method() !== 'POST') return;
  const body = JSON.parse(request.postData() || '{}');
  sent.push({ operation: body.operationName || '', auth: request.headers().authorization || '' });
});
const introspectedWith = (t) => sent.some((r) => r.operation === 'IntrospectionQuery' && r.auth === `Bearer ${t}`);
// No internet: anything not served by handover is refused (and counted).
await page.route('**/*', (route) => {
  if (route.request().url().startsWith(base)) return route.continue();
  outside.push(route.request().url());
  return route.abort();
});
const query = `query Preview {
  reassignmentPreview(input: {fromUserId: "${fromUser}", toUserId: "${toUser}"}) {
    matters { count excluded { reason count } }
    tasks { count excluded { reason count } }
    calendarEvents { count excluded { reason count } }
  }
}`;
await page.goto(`${base}/graphiql?query=${encodeURIComponent(query)}`);
await page.waitForSelector('.graphiql-execute-button', { timeout: 20000 });
await page.waitForTimeout(1500);
const beforeToken = sent.length;
await page.fill('#token', token);
for (let i = 0; i < 100 && !introspectedWith(token); i++) await page.waitForTimeout(100);
await page.waitForSelector('.graphiql-execute-button', { timeout: 20000 });
await page.click('.graphiql-execute-button');
await page.waitForFunction(
  () => (document.querySelector('.result-window')?.textContent || '').includes('reassignmentPreview'),
  null,
  { timeout: 20000 },
);
const result = await page.textContent('.result-window');
await page.screenshot({ path: screenshot });
const schemaError = await page.getByText('Error fetching schema').count();
await page.fill('#token', memberToken);
for (let i = 0; i < 100 && !introspectedWith(memberToken); i++) await page.waitForTimeout(100);
await browser.close();

const failures = [];
if (beforeToken) failures.push(`${beforeToken} requests went out before a token was set`);
if (!introspectedWith(token)) failures.push('setting the token did not fetch the schema with it');
if (!introspectedWith(memberToken)) failures.push('changing the token did not fetch the schema again');
if (schemaError) failures.push('GraphiQL shows "Error fetching schema"');
if (!result.includes('TARGET_NO_ACCESS')) failures.push(`the preview is not on screen: ${result.slice(0, 300)}`);
if (outside.length) failures.push(`requests outside handover: ${outside.join(', ')}`);
if (blocked.length) failures.push(`blocked by the Content-Security-Policy: ${blocked.join(' | ')}`);
console.log(`GraphiQL in chromium: ${beforeToken} requests before the token, schema fetched with each token ` +
  `(${sent.filter((r) => r.operation === 'IntrospectionQuery').length} introspections), result shown ` +
  `(${result.length} characters), screenshot ${screenshot}`);
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('1 passed, 0 failed');
