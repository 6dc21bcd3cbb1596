// Host selection within one mapping key (lighttpd `fastcgi.balance`, reference §1.5).
// A picker only ever sees hosts that currently have a running process, so "no candidate"
// is the caller's concern, not the picker's.
import type { BackendAddress } from '../client/address'
import type { BalanceAlgorithm, PickHint } from './types'

export interface PickCandidate {
  /** position of the host in its mapping key's list (configuration order) */
  readonly index: number
  /** requests currently assigned to the host */
  readonly load: number
  readonly address: BackendAddress
}

export interface HostPicker {
  /** candidates are in configuration order; returns undefined only for an empty list */
  pick<T extends PickCandidate>(candidates: readonly T[], hint: PickHint): T | undefined
}

/** Bernstein's hash as lighttpd uses it (h = h * 33 ^ byte, uint32), over UTF-8 bytes. */
export function djbHash (text: string, seed = 5381): number {
  let h = seed >>> 0
  for (const byte of Buffer.from(text, 'utf8')) {
    // h * 33 stays below 2^38, so the multiplication is exact before ToInt32 wraps it
    h = ((h * 33) ^ byte) >>> 0
  }
  return h
}

/**
 * The per-host part of the hash and sticky scores. The port is mixed in (lighttpd HEAD does,
 * 1.4.69 does not): otherwise every host on one IP scores the same and the first always wins.
 */
export function hostHash (address: BackendAddress): number {
  return address.kind === 'unix'
    ? djbHash(address.path)
    : (djbHash(address.host) ^ address.port) >>> 0
}

/** The smallest load wins; ties go to the earliest host in configuration order. */
export class LeastConnectionPicker implements HostPicker {
  pick<T extends PickCandidate>(candidates: readonly T[]): T | undefined {
    let best: T | undefined
    for (const c of candidates) {
      if (best === undefined || c.load < best.load) best = c
    }
    return best
  }
}

/**
 * The first available host after the one used last, wrapping around. The cursor moves once per
 * pick(): lighttpd 1.4.69 selects twice per request for check-local hosts and so, with two hosts,
 * always lands on the second one.
 */
export class RoundRobinPicker implements HostPicker {
  private cursor = -1

  pick<T extends PickCandidate>(candidates: readonly T[]): T | undefined {
    const next = candidates.find((c) => c.index > this.cursor) ?? candidates[0]
    this.cursor = next === undefined ? -1 : next.index
    return next
  }
}

/** Highest `base ^ hostHash` wins; a later host replaces an earlier one only when strictly greater. */
function pickByScore<T extends PickCandidate> (candidates: readonly T[], base: number): T | undefined {
  let best: T | undefined
  let bestScore = -1
  for (const c of candidates) {
    const score = (base ^ hostHash(c.address)) >>> 0
    if (score > bestScore) {
      best = c
      bestScore = score
    }
  }
  return best
}

/** The same request path and host always reach the same backend while the set of hosts is stable. */
export class HashPicker implements HostPicker {
  pick<T extends PickCandidate>(candidates: readonly T[], hint: PickHint): T | undefined {
    return pickByScore(candidates, djbHash(hint.host.toLowerCase(), djbHash(hint.path)))
  }
}

/** The same client address always reaches the same backend while the set of hosts is stable. */
export class StickyPicker implements HostPicker {
  pick<T extends PickCandidate>(candidates: readonly T[], hint: PickHint): T | undefined {
    return pickByScore(candidates, djbHash(hint.clientAddress))
  }
}

/** One picker per mapping key, since round-robin keeps a cursor per key as lighttpd does. */
export function createPicker (balance: BalanceAlgorithm): HostPicker {
  switch (balance) {
    case 'round-robin': return new RoundRobinPicker()
    case 'hash': return new HashPicker()
    case 'sticky': return new StickyPicker()
    case 'fair':
    case 'least-connection':
      return new LeastConnectionPicker()
  }
}
