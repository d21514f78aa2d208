export * from '../../support/proxy-fixtures.ts';
