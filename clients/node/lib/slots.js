'use strict';
// The in-flight bound: a counting semaphore whose waiters are served in order.

class Slots {
  constructor(size) {
    this.free = size;
    this.taken = 0;
    this._waiters = [];
  }

  /** Resolves once a slot is this caller's. */
  acquire() {
    if (this.free > 0) {
      this.free--;
      this.taken++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this._waiters.push(resolve));
  }

  /** Gives a slot back, straight to the longest waiter if there is one. */
  release() {
    const next = this._waiters.shift();
    if (next) {
      next();
    } else {
      this.free++;
      this.taken--;
    }
  }
}

module.exports = { Slots };
