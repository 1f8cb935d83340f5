/**
 * The day the tests run on, whatever the wall clock says: "today" is TEST_TODAY, and a stack under test runs on a clock
 * that reads noon in New York on that day when it is made and then runs at real speed (so waits, leases and stall
 * checks still see time pass). A test that ran near midnight in New York used to see "today" change under it.
 * Processes get the same day through CLOCK_START (the services' config), e.g. `{ ...CLOCK_ENV, ... }`.
 */
import { clockStartingAt, type Clock } from '../../shared/ports/clock.js';

export const TEST_TODAY = '2026-03-10';
/** Noon in New York on TEST_TODAY (EDT from 8 March 2026): 11 hours from either midnight. */
export const TEST_NOW = new Date(`${TEST_TODAY}T16:00:00Z`);

/** A clock at TEST_NOW now, running at real speed. */
export const testClock = (): Clock => clockStartingAt(TEST_NOW);

/** The services' setting that puts a process on the same clock (CLOCK_START in both config schemas). */
export const CLOCK_ENV = { CLOCK_START: TEST_NOW.toISOString() } as const;
