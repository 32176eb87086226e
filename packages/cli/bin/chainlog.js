#!/usr/bin/env node
'use strict'
require('../dist/chainlog.js').main()
