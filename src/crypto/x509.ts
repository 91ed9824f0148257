// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata
// API before the library is evaluated; every crypto file imports the library through this module so
// the polyfill always loads first.
import 'reflect-metadata';

export * from '@peculiar/x509';
