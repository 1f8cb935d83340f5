/** The one data location: each supported BigQuery location has the Firestore and Cloud Storage location setup creates. */
import { describe, expect, it } from 'vitest';
import { dataLocation, findDataLocation, SUPPORTED_LOCATIONS } from '../../shared/config/locations.js';

describe('data location', () => {
  it('pairs the BigQuery multi-regions with the Firestore multi-region over the same geography', () => {
    // https://cloud.google.com/firestore/docs/locations: nam5 = United States, eur3 = Europe.
    expect(dataLocation('US')).toEqual({ bigquery: 'US', firestore: 'nam5', storage: 'US' });
    expect(dataLocation('eu')).toEqual({ bigquery: 'EU', firestore: 'eur3', storage: 'EU' });
  });

  it('keeps a region in the one region for all three stores', () => {
    expect(dataLocation('us-west2')).toEqual({ bigquery: 'us-west2', firestore: 'us-west2', storage: 'us-west2' });
    expect(dataLocation(' Europe-West2 ')).toEqual({ bigquery: 'europe-west2', firestore: 'europe-west2', storage: 'europe-west2' });
  });

  it('gives every supported location a Firestore location that is a multi-region id or the region itself', () => {
    for (const loc of SUPPORTED_LOCATIONS) {
      const d = dataLocation(loc);
      expect(d.bigquery).toBe(loc);
      expect(['nam5', 'eur3', loc]).toContain(d.firestore);
    }
  });

  it('refuses what it cannot pair, listing what it can', () => {
    expect(findDataLocation('asia')).toBeUndefined();
    expect(() => dataLocation('us-moon1')).toThrow(/'us-moon1' is not a supported data location: use US or EU .*us-west2/);
  });
});
