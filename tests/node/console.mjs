// The reference console in a real browser, two people at once: an administrator previews the
// demo leaver's work, applies it and downloads the report while the assignee, signed in in
// another browser context, sees the flash notification arrive live; then the administrator
// undoes it. No request may leave the server, and nothing may be blocked by the page's policy.
// Usage: node console.mjs BASE_URL ADMIN_TOKEN ASSIGNEE_TOKEN FROM_SEARCH TO_SEARCH OUT_DIR
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, adminToken, assigneeToken, fromSearch, toSearch, outDir] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const failures = [];
const expect = (ok, what) => { if (!ok) failures.push(what); };

async function signedIn(token, label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) failures.push(`${label}: CSP: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`${label}: script error: ${e.message}`));
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith(base)) return route.continue();
    failures.push(`${label}: request outside handover: ${route.request().url()}`);
    return route.abort();
  });
  await page.goto(`${base}/console`);
  await page.fill('#token', token);
  await page.click('#signin button');
  await page.waitForFunction(() => document.getElementById('who').textContent.startsWith('Signed in'), null, { timeout: 20000 });
  return page;
}

const assignee = await signedIn(assigneeToken, 'assignee');
await assignee.waitForFunction(() => document.getElementById('live-state').textContent.includes('live'), null, { timeout: 20000 });
const unreadBefore = await assignee.locator('#notifications li').count();
expect(await assignee.locator('#reassign').isHidden(), 'a member sees the reassign panel');

const admin = await signedIn(adminToken, 'admin');
for (const [side, text] of [['from', fromSearch], ['to', toSearch]]) {
  await admin.fill(`#${side}-search`, text);
  await admin.waitForFunction(([s]) => document.querySelectorAll(`#${s}-list li`).length === 1, [side], { timeout: 20000 });
  await admin.click(`#${side}-list li`);
}
await admin.fill('#note', 'Covering Lee’s files — ünïcödé note');
await admin.click('#preview');
await admin.waitForSelector('#preview-table', { timeout: 20000 });
const previewText = await admin.textContent('#preview-table');
expect(/Matters\s*\d+ move/.test(previewText), `no matters row in the preview: ${previewText.slice(0, 200)}`);
expect(await admin.locator('#preview-table tr.excluded').count() > 0, 'no exclusion shown with its reason');
if (await admin.locator('#ack-row').isVisible()) await admin.check('#ack');
await admin.click('#apply');
await admin.waitForSelector('#applied', { timeout: 30000 });
const applied = await admin.textContent('#applied');
expect(/COMPLETED|APPLIED|DONE/i.test(applied), `unexpected result: ${applied}`);

// The assignee's flash, live, with no reload.
await assignee.waitForSelector('#flash:not([hidden])', { timeout: 20000 });
const flash = await assignee.textContent('#flash');
expect((await assignee.locator('#notifications li').count()) === unreadBefore + 1, 'the notification list did not grow');
await assignee.screenshot({ path: `${outDir}/console-assignee.png` });

const [download] = await Promise.all([admin.waitForEvent('download'), admin.click('#report')]);
const csv = readFileSync(await download.path(), 'utf8');
expect(csv.split('\n').length > 2, `the report has no rows: ${csv.slice(0, 200)}`);
await admin.screenshot({ path: `${outDir}/console-admin.png`, fullPage: true });
await admin.click('#undo');
await admin.waitForSelector('#undone', { timeout: 20000 });
await browser.close();

console.log(`console: admin saw "${applied}"; assignee's flash: "${flash.replace(/\s+/g, ' ').slice(0, 160)}"; ` +
  `report ${csv.split('\n').length - 1} lines; screenshots in ${outDir}`);
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('1 passed, 0 failed');
