/**
 * The demo league: 30 teams with latent ratings and 18-man rosters of synthetic players, each with a latent scoring rate
 * (points per minute), a minutes share, a DNP propensity and a shot profile. Depends only on the seed.
 */
import { Rng } from './random.js';
import type { ShotProfile } from './features.js';

export interface Team {
  abbr: string;
  /** Points scored per 100 possessions (latent). */
  offRating: number;
  /** Points allowed per 100 possessions (latent; lower is better). */
  defRating: number;
  pace: number;
}

export interface Player {
  lookup: string;
  name: string;
  universalId: string;
  team: string;
  /** 0 = the team's first option … 17 = end of the bench. */
  slot: number;
  minutesMean: number;
  /** Points per minute before form, opponent and context. */
  ppm: number;
  usage: number;
  dnpRate: number;
  shot: ShotProfile;
  /** Other markets, for the BettingPros rows. */
  rebounds: number;
  assists: number;
  threes: number;
}

export interface League {
  teams: Team[];
  players: Player[];
  byTeam: Map<string, Player[]>;
  byLookup: Map<string, Player>;
}

export const TRICODES = [
  'ATL',
  'BOS',
  'BKN',
  'CHA',
  'CHI',
  'CLE',
  'DAL',
  'DEN',
  'DET',
  'GSW',
  'HOU',
  'IND',
  'LAC',
  'LAL',
  'MEM',
  'MIA',
  'MIL',
  'MIN',
  'NOP',
  'NYK',
  'OKC',
  'ORL',
  'PHI',
  'PHX',
  'POR',
  'SAC',
  'SAS',
  'TOR',
  'UTA',
  'WAS',
] as const;

export const ROSTER_SIZE = 18;

const FIRST = [
  'Marcus',
  'Jalen',
  'Tyrese',
  'Devin',
  'Jaylen',
  'Darius',
  'Luka',
  'Nikola',
  'Andre',
  'Malik',
  'Cameron',
  'Isaiah',
  'Jordan',
  'Trey',
  'Kevin',
  'Anthony',
  'Brandon',
  'Zion',
  'Caleb',
  'Dillon',
  'Keegan',
  'Mikal',
  'Donovan',
  'Scottie',
  'Evan',
  'Jabari',
  'Franz',
  'Alperen',
  'Domantas',
  'Bennedict',
  'Jarrett',
  'Quentin',
  'Terrence',
  'Lonnie',
  'Kelly',
  'Obi',
  'Royce',
  'Amen',
  'Ausar',
  'Walker',
  'Bilal',
  'Cason',
  'Dereck',
  'Gradey',
  'Jett',
  'Kobe',
  'Moses',
  'Nolan',
  'Oscar',
  'Precious',
  'Reed',
  'Santi',
  'Tari',
  'Victor',
  'Wendell',
  'Xavier',
  'Yves',
  'Zach',
  'Aaron',
  'Bogdan',
];
const LAST = [
  'Okafor',
  'Brunson',
  'Haliburton',
  'Mitchell',
  'Garland',
  'Doncevic',
  'Jokanovic',
  'Drummond',
  'Barnes',
  'Hayes',
  'Holiday',
  'Porter',
  'Murray',
  'Walker',
  'Williams',
  'Johnson',
  'Thompson',
  'Richards',
  'Bridges',
  'Banchero',
  'Wagner',
  'Sengun',
  'Sabonis',
  'Mathurin',
  'Allen',
  'Grant',
  'Ivey',
  'Duren',
  'Oubre',
  'Reaves',
  'Vassell',
  'Sochan',
  'Kessler',
  'Mobley',
  'Markkanen',
  'Nembhard',
  'Queta',
  'Toppin',
  'Achiuwa',
  'Coulibaly',
  'Dosunmu',
  'Eason',
  'Fontecchio',
  'Giddey',
  'Hield',
  'Jaquez',
  'Kuminga',
  'Lively',
  'McDaniels',
  'Nnaji',
  'Olynyk',
  'Podziemski',
  'Risacher',
  'Sarr',
  'Thybulle',
  'Umude',
  'Vucevic',
  'Wembley',
  'Yabusele',
  'Zubac',
  'Castle',
  'Dadiet',
  'Edey',
  'Filipowski',
  'Holland',
];
const SUFFIXES = ['', '', '', '', '', '', '', '', '', '', '', 'Jr.', 'II', 'III'];

/** Normalised lookup as the original pipeline builds it: lower case, letters and digits only ("Luka Dončić" → "lukadoncic"). */
export function normaliseLookup(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** Minutes band, scoring band and DNP propensity per roster slot. */
function slotProfile(slot: number): { minutes: [number, number]; ppm: [number, number]; dnp: number } {
  if (slot === 0) return { minutes: [32, 36], ppm: [0.62, 0.82], dnp: 0.03 };
  if (slot <= 2) return { minutes: [29, 34], ppm: [0.46, 0.6], dnp: 0.04 };
  if (slot <= 4) return { minutes: [25, 30], ppm: [0.38, 0.5], dnp: 0.05 };
  if (slot <= 8) return { minutes: [17, 24], ppm: [0.33, 0.46], dnp: 0.06 };
  if (slot <= 14) return { minutes: [11, 16], ppm: [0.34, 0.46], dnp: slot <= 12 ? 0.12 : 0.3 };
  return { minutes: [4, 10], ppm: [0.25, 0.4], dnp: 0.55 };
}

export function buildLeague(seed: number): League {
  const rng = Rng.of(seed, 'league');
  const teams: Team[] = TRICODES.map((abbr) => ({
    abbr,
    offRating: rng.uniform(108, 121),
    defRating: rng.uniform(107, 120),
    pace: rng.uniform(96, 103.5),
  }));
  const used = new Set<string>();
  const players: Player[] = [];
  const byTeam = new Map<string, Player[]>();
  for (const team of teams) {
    const roster: Player[] = [];
    for (let slot = 0; slot < ROSTER_SIZE; slot++) {
      let name: string;
      let lookup: string;
      do {
        const suffix = rng.pick(SUFFIXES);
        name = `${rng.pick(FIRST)} ${rng.pick(LAST)}${suffix ? ` ${suffix}` : ''}`;
        lookup = normaliseLookup(name);
      } while (used.has(lookup));
      used.add(lookup);
      const p = slotProfile(slot);
      const paint = rng.uniform(0.2, 0.55);
      const three = rng.uniform(0.15, Math.min(0.5, 0.95 - paint - 0.1));
      const player: Player = {
        lookup,
        name,
        universalId: `${lookup}_001`,
        team: team.abbr,
        slot,
        minutesMean: rng.uniform(p.minutes[0], p.minutes[1]),
        ppm: rng.uniform(p.ppm[0], p.ppm[1]),
        usage: 12 + (slot <= 2 ? rng.uniform(10, 18) : rng.uniform(2, 10)),
        dnpRate: p.dnp,
        shot: { paint, midRange: 1 - paint - three, three, freeThrow: rng.uniform(0.1, 0.3) },
        rebounds: rng.uniform(1.5, 11),
        assists: rng.uniform(0.8, 8.5),
        threes: rng.uniform(0.2, 3.8),
      };
      roster.push(player);
      players.push(player);
    }
    byTeam.set(team.abbr, roster);
  }
  return { teams, players, byTeam, byLookup: new Map(players.map((p) => [p.lookup, p])) };
}
