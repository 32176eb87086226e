'use strict'
// A pipeline stage that passes pino's bytes on untouched, so that a test can
// see what reaches @chainlog/pino as the last stage of pino.transport({ pipeline }).
const { PassThrough } = require('node:stream')

module.exports = () => new PassThrough()
