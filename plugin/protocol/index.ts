export * from './constants'
export * from './name-value'
export * from './records'
export * from './decoder'
