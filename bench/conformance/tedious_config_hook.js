// Loaded with `mocha --require` by bench/conformance/tedious.sh: tedious's integration tests
// import their connection settings from test/config.ts (a fixed server, port and password);
// this resolves that import to the file named by $CONFORMANCE_TEDIOUS_CONFIG instead, so the
// suite runs unmodified against the sandbox.
'use strict';
const Module = require('module');
const path = require('path');

const replacement = process.env.CONFORMANCE_TEDIOUS_CONFIG;
const original = path.join(process.cwd(), 'test', 'config.ts');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const resolved = resolve.call(this, request, parent, ...rest);
  return replacement && resolved === original ? replacement : resolved;
};
