/**
 * A direct, O(n)-per-pick transcription of nginx's ngx_http_upstream_get_peer() (smooth
 * weighted round robin) used as the oracle for WeightedRoundRobin. Peers that are down, at
 * max_conns or already tried are skipped: no current_weight increment, no share of the total.
 */
export interface RefPeer {
  id: string;
  weight: number;
  cw: number;
  down: boolean;
  active: number;
  maxActive: number;
}

export class NginxWrrReference {
  peers: RefPeer[];

  constructor(peers: readonly { id: string; weight: number; maxActive?: number }[]) {
    this.peers = peers.map((p) => ({ id: p.id, weight: p.weight, cw: 0, down: false, active: 0, maxActive: p.maxActive ?? Infinity }));
  }

  pick(tried: readonly string[] = []): string | undefined {
    let best: RefPeer | undefined;
    let total = 0;
    for (const p of this.peers) {
      if (p.down || tried.includes(p.id) || p.active >= p.maxActive) continue;
      p.cw += p.weight;
      total += p.weight;
      if (best === undefined || p.cw > best.cw) best = p;
    }
    if (best === undefined) return undefined;
    best.cw -= total;
    return best.id;
  }

  /** Membership change that keeps the current weight of retained peers (what WeightedRoundRobin does). */
  setPeers(peers: readonly { id: string; weight: number }[]): void {
    const old = new Map(this.peers.map((p) => [p.id, p]));
    this.peers = peers.map((p) => {
      const kept = old.get(p.id);
      return kept ? { ...kept, weight: p.weight } : { id: p.id, weight: p.weight, cw: 0, down: false, active: 0, maxActive: Infinity };
    });
  }
}
