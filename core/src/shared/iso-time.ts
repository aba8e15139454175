/**
 * `Date#toISOString`, written by hand for the years 0000–9999. The store turns every timestamp it
 * writes into this text (three or four per postback sent); V8's own conversion took ~0.7–1.4 µs
 * here and this ~0.26 µs. Dates outside those years, and invalid ones (which throw RangeError),
 * go to `toISOString` itself, so the result is always exactly what it would give.
 */

const msPerDay = 86_400_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z. */
const fourDigitYears = { first: -62_167_219_200_000, last: 253_402_300_799_999 } as const;

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function three(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

function four(n: number): string {
  return n < 10 ? `000${n}` : n < 100 ? `00${n}` : n < 1000 ? `0${n}` : `${n}`;
}

export function formatIsoTime(date: Date): string {
  const time = date.getTime();
  if (!(time >= fourDigitYears.first && time <= fourDigitYears.last)) return date.toISOString();
  const msOfDay = ((time % msPerDay) + msPerDay) % msPerDay;
  // days since 1970-01-01 to a civil date (proleptic Gregorian), counted in 400-year eras from 0000-03-01
  const days = (time - msOfDay) / msPerDay + 719_468;
  const era = Math.floor(days / 146_097);
  const dayOfEra = days - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(msOfDay / 3_600_000);
  const minutes = Math.floor(msOfDay / 60_000) % 60;
  const seconds = Math.floor(msOfDay / 1000) % 60;
  return `${four(year)}-${two(month)}-${two(day)}T${two(hours)}:${two(minutes)}:${two(seconds)}.${three(msOfDay % 1000)}Z`;
}
