export * from './settings';
export * from './points';
export * from './rows';
export * from './written';
export * from './backfill';
export * from './recorder';
export * from './messages';
export * from './sources';
