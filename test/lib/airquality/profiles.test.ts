/**
 * Every profile's boundaries: a value just below, on and just above each threshold, with the
 * outdoor CO2 changed for the profile that counts above it (EN 16798-1).
 */
import assert from 'node:assert/strict';
import { AqProfile, buildProfile, categoryColours, classify, limitPpm, ProfileSettings } from '../../../lib/airquality/profiles';

const label = (profile: string, category: string) => `${profile}:${category}`;
const settings = (over: Partial<ProfileSettings>): ProfileSettings => ({ profile: 'en16798', limit: 1000, thresholds: [], labels: [], ...over });

/** [value, expected category] for each value. */
function categoriesOf(profile: AqProfile, outdoor: number, values: number[]): string[] {
  return values.map((v) => profile.categories[classify(profile, v, outdoor) - 1].category);
}

describe('air quality: profiles', () => {
  describe('EN 16798-1 (Annex B, Table B.12): CO2 above outdoor ≤ 550 I, ≤ 800 II, ≤ 1350 III, > 1350 IV', () => {
    const profile = buildProfile(settings({ profile: 'en16798' }), label);

    for (const outdoor of [420, 400, 500, 0]) {
      it(`outdoor ${outdoor} ppm: each boundary is outdoor + 550 / 800 / 1350, the value on it in the better category`, () => {
        const [b1, b2, b3] = [550, 800, 1350].map((d) => outdoor + d);
        assert.deepEqual(
          categoriesOf(profile, outdoor, [outdoor, b1 - 1, b1, b1 + 1, b2 - 1, b2, b2 + 1, b3 - 1, b3, b3 + 1, 10_000]),
          ['I', 'I', 'I', 'II', 'II', 'II', 'III', 'III', 'III', 'IV', 'IV'],
        );
        // Fractions too: just above a boundary is the next category.
        assert.deepEqual(categoriesOf(profile, outdoor, [b1 + 0.1, b2 - 0.1]), ['II', 'II']);
      });
    }

    it('a higher outdoor CO2 moves every boundary: 1000 ppm indoors is II at 420 outdoor, I at 460', () => {
      assert.deepEqual(categoriesOf(profile, 420, [1000]), ['II']);
      assert.deepEqual(categoriesOf(profile, 460, [1000]), ['I']);
    });

    it('has the levels 1–4, labels of the runtime, Okabe–Ito colours, and the category II limit', () => {
      assert.deepEqual(profile.categories, [
        { category: 'I', label: 'en16798:I', level: 1, color: '#009E73' },
        { category: 'II', label: 'en16798:II', level: 2, color: '#F0E442' },
        { category: 'III', label: 'en16798:III', level: 3, color: '#E69F00' },
        { category: 'IV', label: 'en16798:IV', level: 4, color: '#D55E00' },
      ]);
      assert.equal(limitPpm(profile, 420), 1220);
      assert.equal(limitPpm(profile, 380), 1180);
    });
  });

  describe('UBA (Ad-hoc-AG IRK/AOLG 2008): < 1000 harmless, 1000–2000 elevated, > 2000 unacceptable', () => {
    const profile = buildProfile(settings({ profile: 'uba' }), label);

    it('1000 itself is elevated, 2000 still elevated; outdoor CO2 changes nothing', () => {
      for (const outdoor of [420, 300, 600]) {
        assert.deepEqual(
          categoriesOf(profile, outdoor, [420, 999, 999.9, 1000, 1001, 1999, 2000, 2000.1, 2001]),
          ['harmless', 'harmless', 'harmless', 'elevated', 'elevated', 'elevated', 'elevated', 'unacceptable', 'unacceptable'],
        );
      }
      assert.equal(limitPpm(profile, 420), 1000);
      assert.deepEqual(profile.categories.map((c) => c.color), ['#009E73', '#E69F00', '#D55E00']);
    });
  });

  describe('a single limit (e.g. 1000 ppm of Japan\'s building sanitation law: "1000 ppm or less")', () => {
    for (const limit of [1000, 800, 1500]) {
      it(`limit ${limit}: on the limit is within, above it over`, () => {
        const profile = buildProfile(settings({ profile: 'limit', limit }), label);
        assert.deepEqual(categoriesOf(profile, 420, [limit - 1, limit, limit + 0.5, limit + 1]), ['within', 'within', 'over', 'over']);
        assert.deepEqual(categoriesOf(profile, 900, [limit]), ['within'], 'outdoor CO2 changes nothing');
        assert.equal(limitPpm(profile, 420), limit);
        assert.deepEqual(profile.categories.map((c) => [c.level, c.color]), [[1, '#009E73'], [2, '#D55E00']]);
      });
    }
  });

  describe('custom thresholds with labels', () => {
    it('each threshold is the upper limit (≤) of its category; the labels are the categories', () => {
      const profile = buildProfile(settings({ profile: 'custom', thresholds: [800, 1000, 1400], labels: ['good', 'fair', 'poor', 'bad'] }), label);
      assert.deepEqual(
        categoriesOf(profile, 420, [400, 799, 800, 801, 999, 1000, 1001, 1399, 1400, 1401]),
        ['good', 'good', 'good', 'fair', 'fair', 'fair', 'poor', 'poor', 'poor', 'bad'],
      );
      assert.deepEqual(categoriesOf(profile, 700, [800, 801]), ['good', 'fair'], 'outdoor CO2 changes nothing');
      assert.deepEqual(profile.categories.map((c) => c.label), ['good', 'fair', 'poor', 'bad'], 'its own labels, not the runtime\'s');
      assert.equal(limitPpm(profile, 420), 800, 'the report counts above the best category');
    });

    it('one threshold gives two categories, five give six, every one a colour of its own', () => {
      const two = buildProfile(settings({ profile: 'custom', thresholds: [1000], labels: ['ok', 'ventilate'] }), label);
      assert.deepEqual(categoriesOf(two, 420, [1000, 1001]), ['ok', 'ventilate']);
      const six = buildProfile(settings({ profile: 'custom', thresholds: [600, 800, 1000, 1500, 2000], labels: ['a', 'b', 'c', 'd', 'e', 'f'] }), label);
      assert.deepEqual(categoriesOf(six, 420, [600, 601, 800, 801, 1000, 1001, 1500, 1501, 2000, 2001]), ['a', 'b', 'b', 'c', 'c', 'd', 'd', 'e', 'e', 'f']);
      for (let n = 2; n <= 6; n++) assert.equal(new Set(categoryColours(n)).size, n, `${n} colours`);
    });
  });
});
