// Whether a process start() spawned serves FastCGI on the socket it was given as fd 0. A program
// that is not a FastCGI application (`/bin/sleep`), or one that opens a socket of its own
// (`php-cgi -b`, php-fpm), starts and keeps running, and the first request would wait until
// readTimeout for an answer that never comes: register() fails instead, within connectTimeout.
// The question is one every FastCGI library answers: FCGI_GET_VALUES for FCGI_MPXS_CONNS, padded
// (libfcgi answers only a padded record; see client/probe-values.ts).
import { formatAddress } from '../client/address'
import { STARTUP_VALUE_NAMES, probeBackend, type ProbeOutcome } from '../client/probe-values'
import type { PoolProc } from './host'
import { delay, within } from './spawn-problems'
import type { BackendSpec } from './types'

/** connectTimeout's default, for specs that carry none (the pool used on its own) or 0 */
export const DEFAULT_START_TIMEOUT = 8000
/** After a failed probe, how long an exit may take to show (it explains the failure better). */
const EXIT_GRACE = 1000

const FD0_HINT = 'binPath must be a FastCGI program that accepts connections on the listening socket it is given as fd 0 ' +
  '(FCGI_LISTENSOCK_FILENO), as php-cgi does; a server that opens its own socket (php-fpm, php-cgi -b) is started on its own ' +
  'and configured with socket or host and port, without binPath'

/**
 * Undefined when the process answered (or accepted, then closed, and is still running); else
 * why it is of no use, worded for the configuration's author.
 */
export async function checkStarted<S extends BackendSpec, C> (proc: PoolProc<S, C>, gracePeriod: number): Promise<string | undefined> {
  // connectTimeout 0 (no connect timeout for requests) must not make this wait forever
  const configured = proc.host.spec.connectTimeout ?? 0
  const timeout = configured > 0 ? configured : DEFAULT_START_TIMEOUT
  const exited = proc.exited
  const outcome = await Promise.race([
    probeBackend(proc.address, { connectTimeout: timeout, answerTimeout: timeout, names: STARTUP_VALUE_NAMES, padded: true }),
    exited.then(() => undefined)
  ])
  if (outcome?.kind === 'answered') return proc.startFailure
  // an accepting program that hangs up on a management record is still a FastCGI program,
  // unless the hang-up was its exit or the reset of a listening socket it closed
  // silence has used up the whole timeout already; anything sooner may be the exit on its way
  const silent = outcome?.kind === 'silent' || outcome?.kind === 'timeout'
  if (!silent) await within(exited, outcome?.kind === 'closed' ? gracePeriod : EXIT_GRACE)
  if (proc.startFailure !== undefined || outcome === undefined) return proc.startFailure ?? 'the process exited right after it was started'
  if (outcome.kind === 'closed' && !outcome.reset) return undefined
  return describeSilence(outcome, formatAddress(proc.address), proc.host.spec.binPath?.join(' ') ?? '', timeout)
}

function describeSilence (outcome: Exclude<ProbeOutcome, { kind: 'answered' }>, address: string, command: string, timeout: number): string {
  switch (outcome.kind) {
    case 'closed':
      return `${command} is running but reset the connection on ${address} without a FastCGI answer (it closed the listening socket it was given as fd 0?): ${FD0_HINT}`
    case 'silent':
    case 'timeout':
      return `${command} is running but did not answer a FastCGI connection on ${address} within connectTimeout (${timeout} ms): ${FD0_HINT}`
    case 'foreign':
      return `${command} answered on ${address}, but not in FastCGI (first bytes ${outcome.sample}): ${FD0_HINT}`
    case 'unreachable':
      return `${command} is running but its socket ${address} refuses connections (${outcome.code}): it closed the listening socket it was given as fd 0; ${FD0_HINT}`
  }
}

/**
 * The first process (in start order) that is of no use, and why. With `probe` false (the
 * plugin's startupCheck: 'off') only an exit within `startCheck` ms counts: lighttpd waits 1 ms
 * for an exec that fails at once, but a broken php.ini or a missing shared library takes longer.
 */
export async function firstStartFailure<S extends BackendSpec, C> (
  procs: ReadonlyArray<PoolProc<S, C>>, startCheck: number, probe: boolean
): Promise<{ proc: PoolProc<S, C>, problem: string } | undefined> {
  if (procs.length === 0) return undefined
  const problems = probe
    ? await Promise.all(procs.map(async (proc) => await checkStarted(proc, startCheck)))
    : await delay(startCheck).then(() => procs.map((proc) => proc.startFailure))
  const index = problems.findIndex((problem) => problem !== undefined)
  const proc = procs[index]
  const problem = problems[index]
  return proc === undefined || problem === undefined ? undefined : { proc, problem }
}
