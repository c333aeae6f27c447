// The dashboard's state and data flow: one websocket to this node, four
// subscriptions (finalized, votes, blocks, validators), polls at most once
// a second, and at most one redraw per animation frame and per 250 ms.

import { Conn, RPCError, methodNotFound } from "./rpc.js";
import { render } from "./views.js";

const pollMs = 1000; // chain_status, chain_getValidators, consensus_getRoundState, net_getPeers, net_getFaults
const rewardsPollMs = 5000; // chain_getAccount of each validator
const faultsDisabledRetryMs = 10000; // how often to ask again after -32601
const backlog = 20; // final blocks replayed on first load
const keepRows = 30; // finality rows kept
const keepPoints = 240; // chart points kept


const state = {
  conn: "connecting",
  status: null,
  validators: null, // chain_getValidators result (set of the next height)
  rewards: new Map(), // validator address -> pending self rewards (BigInt)
  round: null, // consensus_getRoundState result
  tallies: new Map(), // "h/r/type" -> Map(block|"nil" -> {voted, total, quorum})
  proposals: new Map(), // "h/r" -> blocks event
  current: { height: 0, round: 0 },
  decided: null, // {height, round, hash, prevote: Map, precommit: Map}
  rows: [], // finalized events, newest first
  lastHeight: 0, // highest finalized height received
  latency: [], // [finalizedAt seconds, ms]
  txBuckets: new Map(), // whole second of finalizedAt -> tx count
  peers: null,
  faults: { state: "unknown", list: [], error: "" },
  lagged: 0,
  firstRowMs: 0,
  firstVoteMs: 0,
};

// Redraws: at most one per animation frame and per minFrameMs (four a
// second: five pages in one headless Chromium took 58% of a core at 100 ms
// and 49% at 250 ms during an open-loop run), of the
// sections whose data changed since the last one.
const minFrameMs = 250;
let dirty = new Set();
let scheduled = false;
let lastFrame = 0;
function changed(...sections) {
  for (const s of sections) dirty.add(s);
  if (scheduled) return;
  scheduled = true;
  const wait = Math.max(0, minFrameMs - (performance.now() - lastFrame));
  setTimeout(() => requestAnimationFrame(() => {
    scheduled = false;
    lastFrame = performance.now();
    const d = dirty;
    dirty = new Set();
    render(state, d);
  }), wait);
}

const scheme = location.protocol === "https:" ? "wss" : "ws";
const conn = new Conn(`${scheme}://${location.host}/ws`, { onOpen: opened, onClose: closed });

function closed() {
  state.conn = "reconnecting";
  changed("head");
}

async function opened() {
  state.conn = "live";
  changed("head");
  try {
    if (state.lastHeight === 0) {
      state.status = await conn.call("chain_status");
      state.lastHeight = Math.max(0, state.status.height - backlog);
    }
    await subscribeFinalized(state.lastHeight + 1);
    await conn.subscribe("validators", null, onValidators);
    live = null;
    if (!document.hidden) await subscribeLive();
  } catch (err) {
    console.warn("dashboard: subscribe", err);
  }
  poll();
  pollRewards();
}

// The votes and blocks subscriptions (many events a height) and the polls
// run only while the page is visible: a dashboard left in a background tab
// costs its node one finalized event a block (and a validators event when
// the set changes). live holds
// the two subscription ids, null while they are off.
let live = null;

async function subscribeLive() {
  const votes = await conn.subscribe("votes", null, onVote);
  const blocks = await conn.subscribe("blocks", null, onBlock);
  live = { votes, blocks };
  document.body.dataset.live = "true";
}

async function unsubscribeLive() {
  const ids = live;
  live = null;
  document.body.dataset.live = "false";
  if (!ids || !conn.open) return;
  await Promise.all([conn.unsubscribe(ids.votes), conn.unsubscribe(ids.blocks)]);
}

document.addEventListener("visibilitychange", () => {
  const step = document.hidden ? (live ? unsubscribeLive() : null) : (!live && conn.open ? subscribeLive().then(poll) : null);
  if (step) step.catch((err) => console.warn("dashboard: visibility", err));
});

function subscribeFinalized(fromHeight) {
  return conn.subscribe("finalized", { fromHeight }, onFinalized);
}

// lagged handles the node's notice that it cut a slow subscription off:
// subscribe again, from where the finalized stream stopped.
function lagged(result, again) {
  if (!result || result.lagged !== true) return false;
  state.lagged++;
  again().catch((err) => console.warn("dashboard: resubscribe", err));
  changed("head");
  return true;
}

function onFinalized(ev) {
  if (lagged(ev, () => subscribeFinalized(Math.max(ev.resumeFromHeight, state.lastHeight + 1)))) return;
  if (ev.height <= state.lastHeight && state.rows.length > 0) return; // resumed: never twice
  state.lastHeight = ev.height;
  const finalizedAt = parseTime(ev.finalizedAt);
  const latencyMs = Math.max(0, finalizedAt - parseTime(ev.time));
  ev.latencyMs = latencyMs;
  state.rows.unshift(ev);
  if (state.rows.length > keepRows) state.rows.length = keepRows;
  const sec = Math.floor(finalizedAt / 1000);
  state.txBuckets.set(sec, (state.txBuckets.get(sec) || 0) + ev.txCount);
  for (const k of state.txBuckets.keys()) if (k < sec - keepPoints) state.txBuckets.delete(k);
  state.latency.push([finalizedAt / 1000, latencyMs]);
  if (state.latency.length > keepPoints) state.latency.shift();
  const key = (t) => `${ev.height}/${ev.certificate.round}/${t}`;
  state.decided = {
    height: ev.height, round: ev.certificate.round, hash: ev.hash,
    prevote: state.tallies.get(key("prevote")) || new Map(),
    precommit: state.tallies.get(key("precommit")) || new Map(),
  };
  for (const k of state.tallies.keys()) if (Number(k.split("/")[0]) <= ev.height) state.tallies.delete(k);
  for (const k of state.proposals.keys()) if (Number(k.split("/")[0]) < ev.height) state.proposals.delete(k);
  if (state.current.height <= ev.height) state.current = { height: ev.height + 1, round: 0 };
  changed("head", "round", "rotation", "finality", "charts");
}

function onVote(ev) {
  if (lagged(ev, () => (live ? conn.subscribe("votes", null, onVote).then((id) => { if (live) live.votes = id; }) : Promise.resolve()))) return;
  const d = state.decided;
  let t;
  if (d && ev.height === d.height && ev.round === d.round) {
    t = d[ev.type]; // a late vote for the block just decided
  } else if (ev.height <= state.lastHeight) {
    return;
  } else {
    const key = `${ev.height}/${ev.round}/${ev.type}`;
    t = state.tallies.get(key);
    if (!t) {
      t = new Map();
      state.tallies.set(key, t);
    }
  }
  // The node's running tally of this block: the bar is drawn from it.
  t.set(ev.block || "nil", { voted: BigInt(ev.tally.votedStake), total: BigInt(ev.tally.totalStake), quorum: ev.tally.quorum });
  const cur = state.current;
  if (ev.height > cur.height || (ev.height === cur.height && ev.round > cur.round)) state.current = { height: ev.height, round: ev.round };
  changed("round");
}

function onBlock(ev) {
  if (lagged(ev, () => (live ? conn.subscribe("blocks", null, onBlock).then((id) => { if (live) live.blocks = id; }) : Promise.resolve()))) return;
  if (ev.height <= state.lastHeight) return;
  state.proposals.set(`${ev.height}/${ev.round}`, ev);
  changed("round");
}

function onValidators(ev) {
  if (lagged(ev, () => conn.subscribe("validators", null, onValidators))) return;
  // The event leaves jailed, missed and commission out: keep the polled ones.
  const prev = new Map((state.validators ? state.validators.validators : []).map((v) => [v.address, v]));
  const validators = ev.validators.map((v) => ({ ...prev.get(v.address), ...v }));
  state.validators = { ...ev, quorumStake: state.validators ? state.validators.quorumStake : undefined, validators };
  changed("validators", "rotation", "finality");
}

let polling = false;
async function poll() {
  if (polling || !conn.open || document.hidden) return;
  polling = true;
  try {
    const [status, vals, round, peers] = await Promise.all([
      conn.call("chain_status"), conn.call("chain_getValidators"), conn.call("consensus_getRoundState"), conn.call("net_getPeers"),
    ]);
    Object.assign(state, { status, validators: vals, round, peers: peers.peers });
    const cur = state.current;
    if (round.height > cur.height || (round.height === cur.height && round.round > cur.round)) {
      state.current = { height: round.height, round: round.round };
    }
    seedTallies(round);
    if (state.rewards.size === 0) pollRewards(); // the first time the set is known
    await pollFaults();
  } catch (err) {
    console.warn("dashboard: poll", err);
  } finally {
    polling = false;
    changed("head", "validators", "rotation", "round", "peers", "faults");
  }
}
setInterval(poll, pollMs);

// seedTallies fills the bars of the current round from the round state, so
// a page opened mid-round shows the votes cast before it subscribed.
function seedTallies(rs) {
  if (rs.height <= state.lastHeight) return;
  for (const type of ["prevote", "precommit"]) {
    const tally = rs.votes[type];
    const key = `${rs.height}/${rs.round}/${type}`;
    let t = state.tallies.get(key);
    if (!t) {
      t = new Map();
      state.tallies.set(key, t);
    }
    const total = BigInt(tally.totalStake);
    for (const b of tally.blocks) {
      const k = b.block || "nil";
      const voted = BigInt(b.stake);
      const had = t.get(k);
      if (!had || had.voted < voted) t.set(k, { voted, total, quorum: 3n * voted > 2n * total });
    }
  }
}

let faultsRetryAt = 0;
async function pollFaults() {
  if (state.faults.state === "disabled" && performance.now() < faultsRetryAt) return;
  try {
    const r = await conn.call("net_getFaults");
    state.faults = { state: "ok", list: r.faults || [], error: "" };
  } catch (err) {
    if (err instanceof RPCError && err.code === methodNotFound) {
      state.faults = { state: "disabled", list: [], error: "" };
      faultsRetryAt = performance.now() + faultsDisabledRetryMs;
    } else {
      state.faults = { state: "error", list: [], error: String(err.message || err) };
    }
  }
}

let rewardsPolling = false;
async function pollRewards() {
  if (rewardsPolling || !conn.open || !state.validators || document.hidden) return;
  rewardsPolling = true;
  try {
    const vals = state.validators.validators.slice(0, 64);
    const accounts = await Promise.all(vals.map((v) => conn.call("chain_getAccount", { address: v.address })));
    for (const a of accounts) {
      const own = (a.rewards || []).filter((r) => r.validator === a.address);
      if (a.rewards) state.rewards.set(a.address, own.reduce((s, r) => s + BigInt(r.amount), 0n));
    }
  } catch (err) {
    console.warn("dashboard: rewards", err);
  } finally {
    rewardsPolling = false;
    changed("validators");
  }
}
setInterval(pollRewards, rewardsPollMs);

/** parseTime returns the milliseconds of an RFC 3339 time, fractions beyond ms cut. */
function parseTime(s) {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return Date.parse(s);
  const frac = m[2] ? m[2].slice(0, 4).padEnd(4, "0") : "";
  return Date.parse(m[1] + frac + m[3]);
}


conn.connect();
