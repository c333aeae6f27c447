// Rendering of the dashboard's state into the page. Called at most once per
// animation frame. Text goes in with textContent only; bar widths are set
// through the CSSOM, which the page's Content-Security-Policy allows.

import { nextProposers } from "./rotation.js";
import { drawLine } from "./chart.js";

const $ = (id) => document.getElementById(id);
const chartSpanSec = 60;

// drawn holds, per page region, the key of what it shows now; a region is
// rebuilt only when its key changes, so a redraw that would show the same
// figures costs no layout or paint.
const drawn = new Map();
function unchanged(region, key) {
  if (drawn.get(region) === key) return true;
  drawn.set(region, key);
  return false;
}

const tallyKey = (tally) => (tally ? [...tally.entries()].map(([b, t]) => `${b}:${t.voted}/${t.total}`).join(",") : "");

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function short(hex) {
  return hex && hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : String(hex);
}

// percent returns num/den as a percentage with two decimals, from BigInts.
function percent(num, den) {
  if (den === 0n) return "0.00%";
  const bp = (num * 10000n) / den;
  return `${bp / 100n}.${String(bp % 100n).padStart(2, "0")}%`;
}

// colorOf gives each validator of the set a stable colour class by its
// position in address order.
function colorIndex(state) {
  const m = new Map();
  const vals = state.validators ? [...state.validators.validators].sort((a, b) => (a.address < b.address ? -1 : 1)) : [];
  vals.forEach((v, i) => m.set(v.address, `c${i % 8}`));
  return (addr) => m.get(addr) || "c7";
}

/**
 * stakeBar returns a bar drawn from voted/total (BigInts) with the two-thirds
 * mark; its data attributes carry the exact figures it is drawn from.
 */
function stakeBar(type, block, voted, total, label, extra) {
  const bar = el("div", "bar");
  bar.dataset.type = type;
  bar.dataset.block = block;
  bar.dataset.voted = voted.toString();
  bar.dataset.total = total.toString();
  bar.dataset.quorum = String(3n * voted > 2n * total);
  Object.assign(bar.dataset, extra || {});
  const fill = el("div", "fill");
  fill.style.width = total > 0n ? `${Number((voted * 10000n) / total) / 100}%` : "0";
  const mark = el("div", "mark");
  mark.style.left = "66.667%";
  mark.title = "two thirds";
  bar.append(fill, mark, el("span", "label", `${label} ${voted}/${total} (${percent(voted, total)})`));
  return bar;
}

function renderTally(box, type, tally, height, round, finalHash, proposals) {
  const p0 = proposals && proposals.get(`${height}/${round}`);
  if (unchanged(box.id, `${height}/${round}/${finalHash}/${p0 ? p0.hash : ""}/${tallyKey(tally)}`)) return tally ? tally.size : 0;
  box.replaceChildren();
  if (!tally || tally.size === 0) {
    box.append(el("span", "muted small", "no votes yet"));
    return 0;
  }
  const entries = [...tally.entries()].sort((a, b) => (b[1].voted > a[1].voted ? 1 : b[1].voted < a[1].voted ? -1 : 0));
  for (const [block, t] of entries) {
    let label = block === "nil" ? "nil" : short(block);
    const p = proposals && proposals.get(`${height}/${round}`);
    if (p && p.hash === block) label += ` by ${short(p.proposer)}`;
    const extra = { height: String(height), round: String(round) };
    if (finalHash !== undefined) extra.final = String(block === finalHash);
    box.append(stakeBar(type, block, t.voted, t.total, label, extra));
  }
  return entries.length;
}

function renderRound(state) {
  const { height, round } = state.current;
  const step = state.round && state.round.height === height ? ` · step ${state.round.step}` : "";
  $("round-title").textContent = height ? `height ${height} round ${round}${step}` : "";
  let bars = 0;
  for (const type of ["prevote", "precommit"]) {
    bars += renderTally($(`bars-${type}`), type, state.tallies.get(`${height}/${round}/${type}`), height, round, undefined, state.proposals);
  }
  const d = state.decided;
  if (d) {
    $("decided-title").textContent = `height ${d.height} round ${d.round}: ${short(d.hash)}`;
    for (const type of ["prevote", "precommit"]) {
      bars += renderTally($(`decided-${type}`), type, d[type], d.height, d.round, d.hash);
    }
  }
  if (bars > 0 && !state.firstVoteMs) {
    state.firstVoteMs = performance.now();
    document.body.dataset.firstVoteMs = String(Math.round(state.firstVoteMs));
  }
}

function renderRotation(state, color) {
  const box = $("rotation");
  const vs = state.validators;
  const prios = vs ? vs.validators.map((v) => `${v.address}:${v.stake}:${v.proposerPriority}`).join(",") : "";
  if (unchanged("rotation", `${state.lastHeight}/${state.rows.length}/${vs ? vs.height : 0}/${prios}`)) return;
  box.replaceChildren();
  const past = state.rows.slice(0, 16).reverse();
  for (const ev of past) {
    const slot = el("div", "slot");
    slot.title = `height ${ev.height} round ${ev.round}: ${ev.proposer}`;
    slot.append(el("span", `swatch ${color(ev.proposer)}`), el("span", "", String(ev.height)), el("span", "mono", short(ev.proposer)));
    if (ev.round > 0) slot.append(el("span", "muted", `r${ev.round}`));
    box.append(slot);
  }
  box.append(el("div", "sep"));
  const next = vs ? nextProposers(vs.validators, 8) : null;
  if (!next) {
    box.append(el("span", "muted small", vs ? "priorities too large to predict exactly" : ""));
    return;
  }
  next.forEach((addr, k) => {
    const h = vs.height + k;
    if (h <= state.lastHeight) return;
    const slot = el("div", "slot next");
    slot.title = `height ${h} round 0 (predicted): ${addr}`;
    slot.append(el("span", `swatch ${color(addr)}`), el("span", "", String(h)), el("span", "mono", short(addr)));
    box.append(slot);
  });
}

function renderValidators(state, color) {
  const vs = state.validators;
  const body = $("validators").tBodies[0];
  if (!vs || unchanged("validators", JSON.stringify(vs) + [...state.rewards].join(","))) return;
  body.replaceChildren();
  const total = BigInt(vs.totalStake);
  $("vals-title").textContent = `set of height ${vs.height} · total stake ${total}${vs.quorumStake ? ` · quorum ${vs.quorumStake}` : ""}`;
  for (const v of vs.validators) {
    const tr = el("tr");
    tr.dataset.address = v.address;
    const dot = el("td");
    dot.append(el("span", `dot ${color(v.address)}`));
    const jailed = v.jailed === undefined ? "–" : v.jailed ? "jailed" : "no";
    const reward = state.rewards.get(v.address);
    tr.append(dot, el("td", "mono", v.address), el("td", "num", v.stake), el("td", "num", percent(BigInt(v.stake), total)),
      el("td", "num", String(v.proposerPriority)), el("td", "num", v.commission || "–"), el("td", v.jailed ? "jailed" : "", jailed),
      el("td", "num", v.missed === undefined ? "–" : String(v.missed)), el("td", "num", reward === undefined ? "–" : reward.toString()));
    body.append(tr);
  }
}

function finalityRow(ev, members, color) {
  const tr = el("tr");
  tr.dataset.height = String(ev.height);
  tr.dataset.hash = ev.hash;
  const signers = el("td");
  const signed = new Set(ev.certificate.signers);
  for (const a of new Set([...members, ...signed])) {
    const d = el("span", signed.has(a) ? `dot ${color(a)}` : "dot absent");
    d.title = `${a}${signed.has(a) ? "" : " (not in certificate)"}`;
    signers.append(d);
  }
  signers.append(el("span", "muted small", ` ${signed.size}`));
  const cert = el("td");
  const bar = stakeBar("precommit", ev.hash, BigInt(ev.certificate.signedStake), BigInt(ev.certificate.totalStake), "",
    { height: String(ev.height), final: "true", source: "certificate" });
  bar.classList.add("mini");
  cert.append(bar);
  tr.append(el("td", "num", String(ev.height)), el("td", "mono", short(ev.hash)), el("td", "num", String(ev.round)),
    el("td", "num", String(ev.txCount)), signers, cert, el("td", "num", `${Math.round(ev.latencyMs)} ms`));
  return tr;
}

// renderFinality adds the rows of blocks finalized since the last redraw
// on top and drops those past the kept ones; a change of the set (its
// colours and absent signers) redraws every row.
function renderFinality(state, color) {
  const body = $("finality").tBodies[0];
  const members = state.validators ? state.validators.validators.map((v) => v.address) : [];
  if (!unchanged("finality-members", members.join(","))) body.replaceChildren();
  const top = body.firstElementChild ? Number(body.firstElementChild.dataset.height) : 0;
  const fresh = [];
  for (const ev of state.rows) {
    if (ev.height <= top) break;
    fresh.push(finalityRow(ev, members, color));
  }
  if (fresh.length > 0) body.prepend(...fresh);
  while (body.rows.length > state.rows.length) body.lastElementChild.remove();
  document.body.dataset.rows = String(body.rows.length);
  if (state.rows.length > 0 && !state.firstRowMs) {
    state.firstRowMs = performance.now();
    document.body.dataset.firstRowMs = String(Math.round(state.firstRowMs));
  }
}

function renderCharts(state) {
  const rows = state.rows;
  const now = rows.length ? Math.floor(state.latency[state.latency.length - 1][0]) : 0;
  const tps = [];
  for (let s = now - chartSpanSec; s <= now; s++) tps.push([s, state.txBuckets.get(s) || 0]);
  drawLine($("chart-tps"), rows.length ? tps : [], { color: "#58c27d", xSpan: chartSpanSec });
  drawLine($("chart-latency"), state.latency.filter((p) => p[0] >= now - chartSpanSec), { color: "#4aa3df", xSpan: chartSpanSec });
  if (rows.length) {
    // The last whole second: the current one is still filling.
    $("tps-now").textContent = `${state.txBuckets.get(now - 1) || 0} tx in the last whole second`;
    $("latency-now").textContent = `latest ${Math.round(rows[0].latencyMs)} ms (block time to finalization at this node)`;
  }
}

function renderPeers(state) {
  const body = $("peers").tBodies[0];
  if (unchanged("peers", JSON.stringify(state.peers))) return;
  body.replaceChildren();
  for (const p of state.peers || []) {
    const tr = el("tr");
    tr.dataset.nodeId = p.nodeId;
    tr.append(el("td", "mono", short(p.nodeId)), el("td", "mono", p.address), el("td", "", p.direction),
      el("td", "num", p.height === undefined ? "–" : String(p.height)), el("td", "num", String(Math.round(p.score * 10) / 10)));
    body.append(tr);
  }
}

function renderFaults(state) {
  const box = $("faults");
  const f = state.faults;
  if (unchanged("faults", JSON.stringify(f))) return;
  box.dataset.state = f.state;
  box.replaceChildren();
  if (f.state === "disabled") return box.append("fault layer not enabled");
  if (f.state === "error") return box.append(`faults unavailable: ${f.error}`);
  if (f.state === "unknown") return box.append("…");
  if (f.list.length === 0) return box.append("none");
  for (const x of f.list) {
    const parts = [x.kind];
    if (x.peers && x.peers.length) parts.push(`peers ${x.peers.join(", ")}`);
    if (x.delayMs) parts.push(`delay ${x.delayMs} ms${x.jitterMs ? ` ± ${x.jitterMs} ms` : ""}`);
    if (x.rate) parts.push(`drop rate ${x.rate}`);
    if (x.mode) parts.push(`mode ${x.mode}`);
    if (x.since) parts.push(`since ${x.since}`);
    box.append(el("div", "fault", parts.join(" · ")));
  }
}

/** render draws the sections of the page named in dirty from state. */
export function render(state, dirty) {
  // Charts first: they read the canvas size, which is free while no
  // other region has changed the layout in this frame.
  if (dirty.has("charts")) renderCharts(state);
  if (dirty.has("head")) {
    const conn = $("conn");
    const title = state.status ? `${state.status.chainId} · node ${short(state.status.nodeId)}` : "";
    const head = state.status ? `final height ${state.lastHeight}${state.status.syncing ? " · syncing" : ""}` : "";
    if (!unchanged("head", [state.conn, title, head, state.lagged].join("|"))) {
      conn.dataset.state = state.conn;
      conn.textContent = state.conn;
      $("chain").textContent = title;
      $("head").textContent = head;
      $("lagged").textContent = state.lagged ? `Subscriptions resumed after lagging: ${state.lagged}.` : "";
      document.body.dataset.lagged = String(state.lagged);
    }
  }
  const color = colorIndex(state);
  if (dirty.has("round")) renderRound(state);
  if (dirty.has("rotation")) renderRotation(state, color);
  if (dirty.has("validators")) renderValidators(state, color);
  if (dirty.has("finality")) renderFinality(state, color);
  if (dirty.has("peers")) renderPeers(state);
  if (dirty.has("faults")) renderFaults(state);
}
