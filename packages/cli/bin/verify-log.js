#!/usr/bin/env node
'use strict'
require('../dist/verify-log.js').main()
