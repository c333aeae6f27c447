// A JSON-RPC 2.0 client of the node's websocket with subscriptions and
// reconnection. Calls time out; a closed socket fails the calls in flight
// and reconnects with a growing delay; onOpen runs after every (re)connect
// so the page can subscribe again and resume its finalized stream.

const callTimeoutMs = 5000;
const reconnectMinMs = 250;
const reconnectMaxMs = 5000;

/** RPCError is a JSON-RPC error answer: code and message as the node sent them. */
export class RPCError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** The method-not-found code: the node does not serve the method. */
export const methodNotFound = -32601;

export class Conn {
  /**
   * @param {string} url ws:// or wss:// URL of the node's /ws
   * @param {{onOpen: function(): void, onClose: function(): void}} hooks
   */
  constructor(url, hooks) {
    this.url = url;
    this.hooks = hooks;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer, onSub}
    this.subs = new Map(); // subscription id -> callback(result)
    this.ws = null;
    this.delay = reconnectMinMs;
    this.connects = 0;
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = reconnectMinMs;
      this.connects++;
      this.hooks.onOpen();
    };
    ws.onmessage = (ev) => this.dispatch(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failAll(new Error("connection closed"));
      this.subs.clear();
      this.hooks.onClose();
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, reconnectMaxMs);
    };
    ws.onerror = () => {}; // onclose follows and reconnects
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  failAll(err) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  dispatch(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return; // not JSON: the node never sends it; ignore
    }
    if (msg.method === "chain_subscription" && msg.params) {
      const id = msg.params.subscription;
      const cb = this.subs.get(id);
      const r = msg.params.result;
      // A lagged notice is the subscription's last message: the node has
      // ended it, and the callback subscribes again.
      if (r && r.lagged === true) this.subs.delete(id);
      if (cb) cb(r);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) {
      p.reject(new RPCError(msg.error.code, msg.error.message));
      return;
    }
    // A subscription's notifications follow its answer on the socket, so
    // registering it here, before the next message, loses none.
    if (p.onSub) this.subs.set(msg.result, p.onSub);
    p.resolve(msg.result);
  }

  /** call sends method(params) and resolves with its result. */
  call(method, params, onSub) {
    if (!this.open) return Promise.reject(new Error("not connected"));
    const id = this.nextId++;
    const req = { jsonrpc: "2.0", id, method };
    if (params !== undefined) req.params = params;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${callTimeoutMs} ms`));
      }, callTimeoutMs);
      this.pending.set(id, { resolve, reject, timer, onSub });
      this.ws.send(JSON.stringify(req));
    });
  }

  /** unsubscribe ends a subscription; its late notifications are dropped. */
  unsubscribe(id) {
    this.subs.delete(id);
    return this.call("chain_unsubscribe", { id });
  }

  /** subscribe opens a subscription; cb gets each notification's result. */
  subscribe(topic, opts, cb) {
    const params = { topic };
    if (opts && opts.fromHeight !== undefined) params.fromHeight = opts.fromHeight;
    if (opts && opts.filter) params.filter = opts.filter;
    return this.call("chain_subscribe", params, cb);
  }
}
