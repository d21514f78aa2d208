/** The configuration freezes what it returns with the one shared helper. */
export { deepFreeze } from '../core/index.ts';
