// The reference console: a small front end on the public API and nothing else. An
// administrator previews a person's work (every exclusion and reason shown), applies it with the
// preview's token and an idempotency key, downloads the report and can undo; anyone signed in
// sees their unread notifications, and a flash when work arrives live (graphql-ws).
(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...children) => {
    const node = Object.assign(document.createElement(tag), props || {});
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  };
  let token = '';
  let viewer = null;
  let ws = null;
  const chosen = { from: null, to: null };
  let preview = null;

  async function gql(query, variables) {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json',
                 authorization: 'Bearer ' + token },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) {
      const e = body.errors[0];
      const detail = (e.extensions && e.extensions.userErrors || []).map((u) => u.code + ': ' + u.message);
      throw new Error([(e.extensions && e.extensions.code) || response.status, e.message, ...detail].join(' · '));
    }
    return body.data;
  }

  function showError(where, error) {
    where.replaceChildren(el('p', { className: 'error', textContent: String(error.message || error) }));
  }

  // Sign in: who is this token, and which panels may they use.
  $('token').value = sessionStorage.getItem('handover-token') || '';
  $('signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem('handover-token', token);
    try {
      viewer = (await gql('query Me { viewer { id name accountAdmin } }')).viewer;
    } catch (error) {
      $('who').textContent = 'Not signed in: ' + error.message;
      return;
    }
    $('who').textContent = 'Signed in as ' + viewer.name + (viewer.accountAdmin ? ' (administrator)' : '');
    $('reassign').hidden = !viewer.accountAdmin;
    $('inbox').hidden = false;
    if (viewer.accountAdmin) { searchPeople('from', ''); searchPeople('to', ''); }
    loadNotifications();
    listen();
  });

  // People: search with workload, pick one on each side.
  async function searchPeople(side, text) {
    const list = $(side + '-list');
    try {
      const data = await gql(`query People($search: String) {
        users(filter: { search: $search }, first: 20) {
          nodes { id name email enabled licence workload { openMatters openTasks upcomingEvents } } } }`,
        { search: text || null });
      list.replaceChildren(...data.users.nodes.map((u) => {
        const item = el('li', { role: 'option' }, u.name + ' ',
          el('small', { textContent: `${u.enabled ? '' : 'deactivated · '}${u.workload.openMatters} matters, ` +
            `${u.workload.openTasks} tasks, ${u.workload.upcomingEvents} events` }));
        item.dataset.userId = u.id;
        item.setAttribute('aria-selected', String(chosen[side] && chosen[side].id === u.id));
        item.addEventListener('click', () => { chosen[side] = u; searchPeople(side, $(side + '-search').value); choiceChanged(); });
        return item;
      }));
    } catch (error) { showError(list, error); }
  }
  for (const side of ['from', 'to']) {
    let pending = null;
    $(side + '-search').addEventListener('input', (e) => {
      clearTimeout(pending);
      pending = setTimeout(() => searchPeople(side, e.target.value.trim()), 200);
    });
  }
  function choiceChanged() {
    preview = null;
    $('preview-out').replaceChildren();
    $('apply-row').hidden = true;
    $('choice').textContent = chosen.from && chosen.to ? `${chosen.from.name}'s work to ${chosen.to.name}` : '';
    $('preview').disabled = !(chosen.from && chosen.to);
  }

  function input() {
    const note = $('note').value.trim();
    return { fromUserId: chosen.from.id, toUserId: chosen.to.id, note: note || null };
  }

  const CATEGORY = `count toUser { name }
    items(first: 100) { totalCount nodes { title } }
    excluded { reason count items(first: 100) { nodes { title } } }`;

  // Preview: a true dry run; every category, every exclusion with its reason, every risk.
  $('preview').addEventListener('click', async () => {
    const out = $('preview-out');
    try {
      preview = (await gql(`query Preview($input: ReassignWorkInput!) {
        reassignmentPreview(input: $input) {
          previewToken
          matters { ${CATEGORY} } tasks { ${CATEGORY} } calendarEvents { ${CATEGORY} }
          risks { reason count items(first: 100) { nodes { title } } } } }`, { input: input() })).reassignmentPreview;
    } catch (error) { showError(out, error); $('apply-row').hidden = true; return; }
    const rows = [];
    for (const [label, c] of [['Matters', preview.matters], ['Tasks', preview.tasks], ['Calendar events', preview.calendarEvents]]) {
      rows.push(el('tr', { className: 'moves' }, el('th', { textContent: label }),
        el('td', { textContent: `${c.count} move` + (c.toUser ? ` to ${c.toUser.name}` : '') }),
        el('td', { textContent: c.items.nodes.map((n) => n.title).join('; ') })));
      for (const x of c.excluded) {
        rows.push(el('tr', { className: 'excluded' }, el('td'),
          el('td', { textContent: `${x.count} stay: ${x.reason}` }),
          el('td', { textContent: x.items.nodes.map((n) => n.title).join('; ') })));
      }
    }
    for (const r of preview.risks) {
      rows.push(el('tr', { className: 'risk' }, el('th', { textContent: 'Risk' }),
        el('td', { textContent: `${r.count} × ${r.reason}` }),
        el('td', { textContent: r.items.nodes.map((n) => n.title).join('; ') })));
    }
    out.replaceChildren(el('table', { id: 'preview-table' }, ...rows));
    $('ack-row').hidden = preview.risks.length === 0;
    $('ack').checked = false;
    $('apply-row').hidden = false;
  });

  // Apply the previewed plan: the token refuses a plan that changed since; the key makes a
  // retried click safe.
  $('apply').addEventListener('click', async () => {
    const out = $('result');
    const request = Object.assign(input(), { previewToken: preview.previewToken,
      idempotencyKey: crypto.randomUUID(), acknowledgeRisks: $('ack').checked });
    let payload;
    try {
      payload = (await gql(`mutation Apply($input: ReassignWorkInput!) {
        reassignWork(input: $input) {
          userErrors { field code message }
          reassignment { id status reportUrl matters { reassigned } tasks { reassigned } calendarEvents { reassigned } skipped } } }`,
        { input: request })).reassignWork;
    } catch (error) { showError(out, error); return; }
    if (payload.userErrors.length) {
      out.replaceChildren(...payload.userErrors.map((u) => el('p', { className: 'error', textContent: `${u.code}: ${u.message}` })));
      return;
    }
    $('apply-row').hidden = true;
    showReassignment(payload.reassignment);
  });

  function showReassignment(r) {
    const download = el('button', { id: 'report', textContent: 'Download report (CSV)' });
    download.addEventListener('click', () => downloadReport(r));
    const undo = el('button', { id: 'undo', textContent: 'Undo' });
    undo.addEventListener('click', () => undoReassignment(r, undo));
    $('result').replaceChildren(el('p', { id: 'applied', textContent:
      `Reassignment ${r.status}: ${r.matters.reassigned} matters, ${r.tasks.reassigned} tasks, ` +
      `${r.calendarEvents.reassigned} events moved; ${r.skipped} skipped.` }), download, ' ', undo);
  }

  // The report needs the Bearer token, so it is fetched and handed to the browser as a file.
  async function downloadReport(r) {
    const response = await fetch(r.reportUrl, { headers: { authorization: 'Bearer ' + token } });
    if (!response.ok) { showError($('result'), new Error('report: HTTP ' + response.status)); return; }
    const link = el('a', { href: URL.createObjectURL(await response.blob()), download: 'reassignment-report.csv' });
    document.body.append(link);
    link.click();
    link.remove();
  }

  async function undoReassignment(r, button) {
    try {
      const payload = (await gql(`mutation Undo($id: ID!) {
        undoReassignment(id: $id) { userErrors { code message } reassignment { id status } } }`, { id: r.id })).undoReassignment;
      if (payload.userErrors.length) { throw new Error(payload.userErrors.map((u) => u.code).join(', ')); }
      button.replaceWith(el('span', { id: 'undone', textContent: 'Undone: the work is back with its holders.' }));
    } catch (error) { showError($('result'), error); }
  }

  // The assignee's side: unread notifications, and a flash when work arrives live.
  async function loadNotifications() {
    const list = $('notifications');
    try {
      const data = await gql(`query Unread { notifications(unreadOnly: true, first: 20) {
        nodes { id title body createdAt } } }`);
      list.replaceChildren(...data.notifications.nodes.map(notificationItem));
    } catch (error) { showError(list, error); }
  }
  function notificationItem(n) {
    return el('li', { className: 'unread' }, el('div', { textContent: n.title }),
      el('div', { className: 'muted', textContent: n.body }));
  }

  function listen() {
    if (ws) { ws.dispose(); }
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
    ws = graphqlWs.createClient({ url, connectionParams: { Authorization: 'Bearer ' + token },
      on: { connected: () => { $('live-state').textContent = '· live'; },
            closed: () => { $('live-state').textContent = '· offline'; } } });
    ws.subscribe({ query: 'subscription WorkAssigned { workAssigned { id title body } }' }, {
      next: ({ data }) => {
        if (!data) { return; }
        const n = data.workAssigned;
        const flash = $('flash');
        flash.replaceChildren(el('strong', { textContent: n.title }), el('div', { textContent: n.body }));
        flash.hidden = false;
        clearTimeout(flash.timer);
        flash.timer = setTimeout(() => { flash.hidden = true; }, 15000);
        $('notifications').prepend(notificationItem(n));
      },
      error: (error) => { $('live-state').textContent = '· offline'; console.error(error); },
      complete: () => {},
    });
  }
})();
