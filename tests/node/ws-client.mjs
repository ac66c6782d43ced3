// The reference graphql-ws client against a running server: the assignee subscribes, a third
// user subscribes, the administrator reassigns over HTTP; the assignee must receive exactly one
// workAssigned with the right counts, the third user nothing.
// With SUBSCRIBE_BASE_URL, the clients subscribe on that server and the mutation goes to
// BASE_URL: two server processes on one PostgreSQL.
// Usage: node ws-client.mjs BASE_URL ADMIN_TOKEN ASSIGNEE_TOKEN OTHER_TOKEN [SUBSCRIBE_BASE_URL]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, adminToken, assigneeToken, otherToken, subscribeBase] = process.argv.slice(2);
const wsUrl = (subscribeBase || base).replace(/^http/, 'ws') + '/graphql';

async function gql(token, query, variables = {}) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function listen(token, received) {
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  return new Promise((resolve, reject) => {
    client.on('connected', () => resolve(client));
    client.subscribe(
      { query: 'subscription { workAssigned { title matters tasks calendarEvents note } }' },
      { next: (v) => received.push(v), error: reject, complete: () => {} },
    );
  });
}

const userId = async (email) =>
  (await gql(adminToken, 'query($s: String) { users(filter: {search: $s}) { nodes { id email } } }', { s: email }))
    .users.nodes.find((u) => u.email === email).id;

const assigneeGot = [];
const otherGot = [];
const clients = [await listen(assigneeToken, assigneeGot), await listen(otherToken, otherGot)];
await new Promise((r) => setTimeout(r, 300));

const me = (await gql(assigneeToken, '{ viewer { email } }')).viewer.email;
const result = await gql(
  adminToken,
  `mutation($i: ReassignWorkInput!) { reassignWork(input: $i) { userErrors { code }
     reassignment { matters { reassigned } tasks { reassigned } calendarEvents { reassigned } } } }`,
  {
    i: {
      fromUserId: await userId('lee@demo.test'), toUserId: await userId(me), note: 'from the graphql-ws check',
      // The demo's work includes deadlines within the week: reviewed and accepted.
      acknowledgeRisks: true,
    },
  },
);
if (result.reassignWork.userErrors.length > 0) {
  console.error('reassignWork refused:', JSON.stringify(result.reassignWork.userErrors));
  process.exit(1);
}
const r = result.reassignWork.reassignment;
await new Promise((r) => setTimeout(r, 1500));
for (const c of clients) await c.dispose();

const failures = [];
if (assigneeGot.length !== 1) failures.push(`assignee received ${assigneeGot.length} notifications, expected 1`);
const n = assigneeGot[0]?.data?.workAssigned;
if (n && (n.matters !== r.matters.reassigned || n.tasks !== r.tasks.reassigned || n.calendarEvents !== r.calendarEvents.reassigned)) {
  failures.push(`counts differ: ${JSON.stringify(n)} vs ${JSON.stringify(r)}`);
}
if (otherGot.length !== 0) failures.push(`the third user received ${otherGot.length} notifications`);
console.log(`graphql-ws check: assignee got ${assigneeGot.length} (${JSON.stringify(n)}), third user got ${otherGot.length}`);
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log('1 passed, 0 failed');
