// Temporary directories that remove themselves when the test ends.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The part of a tap Test the helpers need: anything with teardown() (a tap `t`). */
export interface TeardownHost {
  teardown (fn: () => unknown): void
}

/** Creates a fresh directory under the OS temp dir (short path: fits unix socket names) and removes it, recursively, at t.teardown. */
export function makeTempDir (t: TeardownHost, prefix = 'ffcgi-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}
