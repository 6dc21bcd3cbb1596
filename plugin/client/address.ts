// Where a backend listens. Host names are kept as given and resolved at connect time
// (lighttpd resolves once at start-up and accepts only addresses).
export type BackendAddress =
  | { readonly kind: 'tcp', readonly host: string, readonly port: number }
  | { readonly kind: 'unix', readonly path: string }

/** lighttpd's connection name: `tcp:HOST:PORT` or `unix:PATH`; used in logs and as the sharing key. */
export function formatAddress (address: BackendAddress): string {
  return address.kind === 'unix' ? `unix:${address.path}` : `tcp:${address.host}:${address.port}`
}
