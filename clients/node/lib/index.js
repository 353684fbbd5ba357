'use strict';
// Reference client for the stopgate socket API (NDJSON over TCP, TLS or a unix socket).
//
//   const { connect } = require('stopgate-client');
//   const gw = await connect({ host: '127.0.0.1', port: 7600, key: 'sg_...' });
//   console.log(await gw.check('+12125552671', { sender: 'acme' }));
//   await gw.close();
//
// See README.md beside this folder.

const { Client, connect, retryIsSafe } = require('./client');
const errors = require('./errors');

module.exports = { Client, connect, retryIsSafe, ...errors };
