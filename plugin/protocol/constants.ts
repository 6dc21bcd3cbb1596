// FastCGI 1.0 wire constants (the specification's names, without the FCGI_ prefix).
export const VERSION_1 = 1
export const HEADER_LENGTH = 8
export const MAX_CONTENT_LENGTH = 0xffff
/** FCGI_NULL_REQUEST_ID: management records (GET_VALUES) use it. */
export const NULL_REQUEST_ID = 0
/** FCGI_KEEP_CONN in BEGIN_REQUEST flags: the application must not close the connection. */
export const KEEP_CONN = 1

export const RecordType = {
  BEGIN_REQUEST: 1,
  ABORT_REQUEST: 2,
  END_REQUEST: 3,
  PARAMS: 4,
  STDIN: 5,
  STDOUT: 6,
  STDERR: 7,
  DATA: 8,
  GET_VALUES: 9,
  GET_VALUES_RESULT: 10,
  UNKNOWN_TYPE: 11
} as const
export type RecordType = typeof RecordType[keyof typeof RecordType]

export const Role = {
  RESPONDER: 1,
  AUTHORIZER: 2,
  FILTER: 3
} as const
export type Role = typeof Role[keyof typeof Role]

export const ProtocolStatus = {
  REQUEST_COMPLETE: 0,
  CANT_MPX_CONN: 1,
  OVERLOADED: 2,
  UNKNOWN_ROLE: 3
} as const
export type ProtocolStatus = typeof ProtocolStatus[keyof typeof ProtocolStatus]
