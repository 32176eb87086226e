'use strict'
// The built addon. Loading throws (MODULE_NOT_FOUND) where the install could
// not build it; @chainlog/core catches that and takes its JS hash path.
module.exports = require('./build/Release/chainlog_native.node')
