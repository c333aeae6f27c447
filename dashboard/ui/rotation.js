// Round-0 proposers of the heights after a validator set, derived from its
// stake and proposer priorities by the chain's rotation rule (stake-weighted
// round robin, staking/priority.go): the highest priority proposes (ties:
// the lower address); one step per height charges the proposer the total
// stake, adds each member's stake, rescales when the spread exceeds twice
// the total, and centres the priorities on their floor average. The
// prediction holds while the membership does not change.

function floorDiv(a, b) {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function maxIndex(prio) {
  let best = 0;
  for (let i = 1; i < prio.length; i++) if (prio[i] > prio[best]) best = i;
  return best;
}

function step(stake, prio, total) {
  prio[maxIndex(prio)] -= total;
  for (let i = 0; i < prio.length; i++) prio[i] += stake[i];
  let lo = prio[0], hi = prio[0];
  for (const p of prio) {
    if (p < lo) lo = p;
    if (p > hi) hi = p;
  }
  const window = 2n * total;
  const spread = hi - lo;
  if (spread > window) {
    const ratio = (spread + window - 1n) / window;
    for (let i = 0; i < prio.length; i++) prio[i] = floorDiv(prio[i], ratio);
  }
  let sum = 0n;
  for (const p of prio) sum += p;
  const avg = floorDiv(sum, BigInt(prio.length));
  for (let i = 0; i < prio.length; i++) prio[i] -= avg;
}

/**
 * nextProposers returns the round-0 proposers of the count heights from the
 * set's own height on, or null when a priority arrived as a number that JSON
 * could not carry exactly (beyond 2^53): then there is no honest prediction.
 * @param {{stake: string, proposerPriority: number, address: string}[]} validators
 */
export function nextProposers(validators, count) {
  if (!validators || validators.length === 0) return null;
  if (!validators.every((v) => Number.isSafeInteger(v.proposerPriority))) return null;
  const vals = [...validators].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const stake = vals.map((v) => BigInt(v.stake));
  const prio = vals.map((v) => BigInt(v.proposerPriority));
  const total = stake.reduce((a, b) => a + b, 0n);
  const out = [];
  for (let k = 0; k < count; k++) {
    out.push(vals[maxIndex(prio)].address);
    step(stake, prio, total);
  }
  return out;
}
