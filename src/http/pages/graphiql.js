// GraphiQL with a Bearer token field. Nothing goes to the server before there is a token; when
// the token changes, GraphiQL gets a new fetcher and so fetches the schema again (autocomplete
// and Docs follow the token's rights). Subscriptions run over WebSocket with the token in
// connection_init.
(function () {
  const root = document.getElementById('graphiql');
  if (typeof GraphiQL === 'undefined' || typeof ReactDOM === 'undefined') {
    root.textContent = 'GraphiQL could not load its scripts from this server (see the browser console).';
    return;
  }
  const tokenInput = document.getElementById('token');
  tokenInput.value = sessionStorage.getItem('handover-token') || '';

  function headersFor(token, opts) {
    const headers = Object.assign({ 'content-type': 'application/json',
                                    accept: 'application/graphql-response+json, application/json' },
                                  (opts && opts.headers) || {});
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
      headers.Authorization = 'Bearer ' + token;
    }
    return headers;
  }

  // A small graphql-transport-ws client for subscriptions: an async iterable of results.
  function subscribe(params, headers) {
    const queue = [];
    let wake = null, done = false;
    const push = (item) => { queue.push(item); if (wake) { wake(); wake = null; } };
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init',
      payload: { Authorization: headers.Authorization || '' } }));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: params }));
      } else if (message.type === 'next') {
        push({ value: message.payload });
      } else if (message.type === 'error') {
        push({ value: { errors: message.payload } }); done = true; push(null);
      } else if (message.type === 'complete') {
        done = true; push(null);
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      }
    };
    socket.onclose = (event) => {
      if (!done) { push({ value: { errors: [{ message: 'connection closed (' + event.code + ') ' + event.reason }] } }); }
      done = true; push(null);
    };
    return {
      [Symbol.asyncIterator]() {
        return {
          async next() {
            while (queue.length === 0) { await new Promise((r) => (wake = r)); }
            const item = queue.shift();
            return item === null ? { done: true, value: undefined } : { done: false, value: item.value };
          },
          async return() { done = true; socket.close(1000); return { done: true, value: undefined }; },
        };
      },
    };
  }

  // One fetcher per token: a new token is a new fetcher, and GraphiQL refetches the schema.
  function fetcherFor(token) {
    return async function fetcher(params, opts) {
      if (!token) {
        return { errors: [{ message: 'Paste a Bearer token in the field above first.' }] };
      }
      const headers = headersFor(token, opts);
      if (/(^|[\s}])subscription\b/.test(params.query || '')) {
        return subscribe(params, headers);
      }
      const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify(params) });
      return response.json();
    };
  }

  const initial = new URLSearchParams(location.search).get('query') || undefined;
  const reactRoot = ReactDOM.createRoot(root);
  function render() {
    const token = tokenInput.value.trim();
    const props = { fetcher: fetcherFor(token), defaultQuery: initial, query: initial,
                    defaultEditorToolsVisibility: true };
    // schema: null tells GraphiQL not to introspect: no request goes out without a token.
    if (!token) { props.schema = null; }
    reactRoot.render(React.createElement(GraphiQL, props));
  }
  let pending = null;
  tokenInput.addEventListener('input', () => {
    sessionStorage.setItem('handover-token', tokenInput.value.trim());
    clearTimeout(pending);
    pending = setTimeout(render, 250);
  });
  render();
})();
