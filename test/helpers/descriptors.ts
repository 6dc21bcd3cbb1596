// What a test needs to see that a temp file is open, or closed again: this process's
// descriptors that point into a directory (deleted files included), and a bounded wait.
import fs from 'node:fs'
import path from 'node:path'

/** This process's descriptors open on files (deleted or not) in `directory`. */
export function descriptorsInto (directory: string): number {
  let count = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(path.join('/proc/self/fd', fd)).startsWith(directory + path.sep)) count++
    } catch {
      // closed while we looked
    }
  }
  return count
}

/** Waits for `check` (every 20 ms), throwing with `what` after `ms`. */
export async function waitUntil (what: string, check: () => boolean, ms = 30000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
