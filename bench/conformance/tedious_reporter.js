// A mocha reporter for bench/conformance/tedious.sh: one line per test, written at once
// (appendFileSync) so that the lines survive a run killed for hanging.
//   pass <TAB> title        fail <TAB> title <TAB> first line of the error        skip <TAB> title
// A failing hook is reported as `hook <TAB> hook title <TAB> error`; the tests it kept from
// running get no line and count as failed in tedious.sh.
'use strict';
const fs = require('fs');
// mocha's Runner event names (Mocha.Runner.constants), spelled out: this file lives outside
// the tedious tree, where require('mocha') would not resolve.
const EVENT_TEST_PASS = 'pass', EVENT_TEST_FAIL = 'fail', EVENT_TEST_PENDING = 'pending';

function clean(text) { return String(text).replace(/[\t\r\n]+/g, ' ').slice(0, 400); }

class LineReporter {
  constructor(runner, options) {
    const out = (options.reporterOptions && options.reporterOptions.output) || process.env.CONFORMANCE_RESULTS;
    const write = (line) => fs.appendFileSync(out, line + '\n');
    runner.on(EVENT_TEST_PASS, (test) => write(`pass\t${clean(test.fullTitle())}`));
    runner.on(EVENT_TEST_PENDING, (test) => write(`skip\t${clean(test.fullTitle())}`));
    runner.on(EVENT_TEST_FAIL, (test, err) => {
      const kind = test.type === 'hook' ? 'hook' : 'fail';
      const message = err && (err.message || err.code) ? (err.code ? `${err.code}: ` : '') + (err.message || '') : String(err);
      write(`${kind}\t${clean(test.fullTitle())}\t${clean(message.split('\n')[0])}`);
    });
  }
}
module.exports = LineReporter;
