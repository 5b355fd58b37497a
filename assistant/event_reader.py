"""Reading startup events out of an article by rules: funding rounds, acquisitions, IPOs and layoffs.

The rules read one sentence at a time (the title first, then the body): a sentence with a money
amount and a funding verb or noun is a round, one with an acquiring verb an acquisition, and so
on. ``event_names`` finds the names of each sentence; "the company" and "it" are the article's
main company, the first name of its title. Sentences that only add investors, a round name or a
valuation ("Temasek also participated in the Series C") are merged into the main round. Totals
("bringing its total funding to $X", "had previously raised $Y") are facts of their own, never
rounds.

Acquisitions, IPOs and layoffs are read by ``event_deals``, a mixin of the reader.

Fast on purpose (regular expressions over sentences): the 1,160-article corpus in about 15 s.
The events are derived data, stored at ingest: bump ``storecheck.ANALYSIS_VERSION`` when these
rules change, and stores re-read their articles on open. ``bench/facts.py`` scores the rules
against hand labels.
"""

from __future__ import annotations

import re

from .entities import core_name, normal
from .event_deals import DealSentences
from .event_names import ArticleNames, buys, unbracketed
from .event_patterns import (
    ACQUIRE,
    ACQUIRED_BY,
    ACQUISITION_OF,
    BACKERS,
    CLAUSE_END,
    CUMULATIVE,
    DEAL_AFTER,
    EARLIER_ROUND,
    FUNDING_NOUN,
    FUNDING_VERB,
    FUNDING_WORD,
    FUTURE,
    HAS_RAISED,
    IN_MONTH,
    IN_YEAR,
    INCLUDING_ROUND,
    INVESTORS_INCLUDE,
    INVESTS,
    IPO_WORDS,
    LAYOFF_WORDS,
    LEAD,
    LED_THE_ROUND,
    MANY_BEFORE,
    NAMED_AMOUNT,
    NAMED_ROUND,
    NEW_MONEY,
    NEW_MONEY_FROM,
    NEXT_RAISER,
    NOISE,
    NOT_A_ROUND,
    NOT_A_ROUND_AFTER,
    NOT_NAME_WORDS,
    OTHER_ROUND_CLAUSE,
    OWNER_OF,
    OWNS,
    PARTICIPANTS,
    PARTICIPATED,
    PLANNED,
    PRIOR,
    RAISED_ALONE,
    REPORTED_HAD,
    ROUND_AFTER,
    ROUND_FOLLOWS,
    ROUND_IN,
    ROUND_NAME,
    SOLD_TO,
    SPENT,
    STAKE_IN,
    TO_DATE,
    TOTAL_AFTER,
    TOTAL_CUE,
    TOTAL_OF,
    VALUATION,
)
from .events import ACQUISITION, ROUND, TOTAL, Event, Span, combine, figure, one_amount_each, round_name, same_company
from .text import Money, money, split_sentences


def extract_events(title: str, text: str, date: str = "") -> list[Event]:
    """The events of one article, the ones it is about first. ``date`` (YYYY-MM-DD) dates an event
    the text does not date itself."""
    reader = _Reader(title, text, date or "")
    for where, source in (("title", title), ("body", text)):
        for start, end in split_sentences(source):
            for clause_start, clause_end in _clauses(source, start, end):
                reader.sentence(where, source, clause_start, clause_end)
    return reader.finish()


def _clauses(source: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence's clauses that each say who raised or bought: "Fivetran, an ETL company, raised $565 million;
    Matillion raised $150 million" is read as two (but "from Accel; Index; and GV" stays one list), and so is
    "Supabase secured $30 million, while Nhost landed $3 million"."""
    cuts = [start] + [start + m.end() for m in re.finditer(r";\s+", source[start:end])] + [end]
    cuts = sorted(set(cuts + _next_raisers(source, start, end)))
    parts = list(zip(cuts, cuts[1:], strict=False))
    merged = parts[:1]
    for a, b in parts[1:]:
        clause = source[a:b]
        if FUNDING_VERB.search(clause) or ACQUIRE.search(clause) or re.search(r"\bsold\b", clause):
            merged.append((a, b))
        else:
            merged[-1] = (merged[-1][0], b)
    return merged


def _next_raisers(source: str, start: int, end: int) -> list[int]:
    """Where a new name's own round starts: "Concord, which raised $25 million last October, and Icertis, which
    raised $115 million in July" (each clause raises money; not "raised $10 million, and plans to raise more")."""
    cuts, last = [], start
    for m in NEXT_RAISER.finditer(source, start, end):
        word = re.match(r"[\w.&'’-]+", source[m.end():end])
        if word is None or word.group().lower() in NOT_NAME_WORDS or m.end() >= end:
            continue
        before, after = source[last:m.start()], source[m.end():end]
        verb = FUNDING_VERB.search(after)
        if verb and re.search(r"\b(?:bring\w*|brought|total\w*)\b", after[:verb.start()]):
            continue  # the end of an investor list: "and Tenaya Capital, bringing its total raised to $112 million"
        if all(FUNDING_VERB.search(part) and any(a.has_currency for a in money(part)) for part in (before, after)):
            cuts.append(m.end())
            last = m.end()
    return cuts


class _Reader(DealSentences):
    def __init__(self, title: str, text: str, date: str) -> None:
        self.title, self.text, self.date = title, text, date
        self.found = ArticleNames(title, text)
        self.main = self.found.main
        self.events: list[Event] = []
        self.counted: list[tuple[Span, Span]] = []
        self.just_read: Span | None = None  # the company whose round the sentence before told of

    # -- one sentence ----------------------------------------------------------------------

    def sentence(self, where: str, source: str, start: int, end: int) -> None:
        count = len(self.events)
        self._sentence(where, source, start, end)
        # Whose round the next sentence may name the backers of: "Nervana closed a $20.5 million funding round
        # last year. Investors include Allen & Co., ...".
        self.just_read = next((e.fields["company"] for e in self.events[count:] if e.kind == ROUND
                               and "company" in e.fields and "details_only" not in e.fields), None)

    def _sentence(self, where: str, source: str, start: int, end: int) -> None:
        sentence = source[start:end]
        if sentence.rstrip(" \"”’)").endswith("?"):
            return  # a question asserts nothing: "Will individuals be able to buy a piece of Reddit?"
        amounts = one_amount_each(sentence, [m for m in money(sentence) if m.has_currency])
        self._deal_count(where, start, sentence)
        if layoff := LAYOFF_WORDS.search(sentence):  # (told with a deal too: "laying off 90 ... acquired by Apple")
            self._layoff(where, start, sentence, layoff)
        passives = list(ACQUIRED_BY.finditer(sentence))
        for n, verb in enumerate(passives):  # "Counsyl (acquired by Myriad), Teleport (acquired by Topia)"
            self._acquisition(where, start, sentence, amounts, verb, since=passives[n - 1].end() if n else 0)
        # A verb, not the noun of "its purchases of X" (read below); the first that takes a company: "acquiring
        # gaming IP, including THQ (which Nordic Games bought in 2013)".
        funding = FUNDING_VERB.match(sentence)
        actives = [] if funding else [m for m in ACQUIRE.finditer(sentence) if buys(sentence, m)]
        if passives or any(self._acquisition(where, start, sentence, amounts, active) for active in actives):
            if not passives:
                self._later_deals(where, start, sentence, amounts)
            return
        if self._deal_price(where, start, sentence, amounts):
            return
        if (owned := ACQUISITION_OF.search(sentence)) and self._acquisition_of(where, start, sentence, amounts, owned):
            self._later_deals(where, start, sentence, amounts)
            return
        if (sold := SOLD_TO.search(sentence)) and self._sold(where, start, sentence, amounts, sold):
            return
        if self._named_deal(where, start, sentence, amounts):
            # A total told with it: "Fivetran had previously raised around $165 million, and its fresh cash
            # could help fund its HVR acquisition".
            self._total(where, start, sentence, amounts, None)
            return
        ipo = IPO_WORDS.search(sentence)
        # Not "Roblox has raised $520 million in a new round of funding, and it will go public": a round.
        if ipo and not any(m.end <= ipo.start() and FUNDING_NOUN.search(sentence, m.end, min(m.end + 45, ipo.start()))
                           and FUNDING_VERB.search(sentence, 0, m.start) for m in amounts):
            self._ipo(where, start, sentence, amounts)
            return
        bought, count = ACQUIRE.search(sentence), len(self.events)  # after "to buy X for": a price, not a round
        rounds = [m for m in amounts if self._is_round_amount(sentence, m) and not (bought and bought.end() <= m.start)]
        # "Fresh off a $60 million round, it secured $135 million": the earlier one is not the sentence's round.
        # "had previously raised $X, including a $Y round last year": $Y is an earlier round.
        told = [m for m in amounts if self._round_of_total(sentence, amounts, m)]
        earlier: list[Money] = []
        for m in amounts:  # (and the rest of their list: "following a $20 million series B and a $7.5 million one")
            if EARLIER_ROUND.search(sentence, max(0, m.start - 30), m.start) or earlier and re.fullmatch(
                    r"[^.;$]{0,40}\b(?:and|as well as)\s+(?:an?\s+)?(?:further\s+)?",
                    sentence[earlier[-1].end:m.start]) or m in told:
                earlier.append(m)
        earlier = [m for m in earlier if m in rounds]
        rounds = [m for m in rounds if m not in earlier]
        if rounds:
            self._round(where, start, sentence, rounds, amounts)
        # (Not a sentence that tells an earlier round of a total: "including a $100 million round last year that
        # pegged the company at a valuation of more than $1 billion" is that round's valuation.)
        elif not any(m in told for m in earlier) and (
                PARTICIPATED.search(sentence) or LED_THE_ROUND.search(sentence) or ROUND_NAME.search(sentence)
                or BACKERS.search(sentence) or (LEAD.search(sentence) and FUNDING_NOUN.search(sentence))
                or (VALUATION.search(sentence) and amounts and not FUTURE.search(sentence))
                or self.just_read and INVESTORS_INCLUDE.match(sentence)):
            self._round_details(where, start, sentence, amounts)
        self._total(where, start, sentence, amounts, self.events[-1] if rounds else None)
        read = next((e.fields["company"] for e in self.events[count:] if "company" in e.fields), None)
        own = bool(rounds) and "company" in self.events[count].fields  # else "the startup's total ..., following a"
        self._named_rounds(where, start, sentence, [m for m in amounts if not (own and m is rounds[0])], read, earlier)

    @staticmethod
    def _round_of_total(sentence: str, amounts: list[Money], m: Money) -> bool:
        """"had previously raised $50 million, including a $26 million round two years ago": an earlier round."""
        if not (INCLUDING_ROUND.search(sentence, max(0, m.start - 15), m.start) and ROUND_AFTER.match(sentence, m.end)):
            return False
        total = [a for a in amounts if a.end <= m.start][-1:]
        before = sentence[max(0, total[0].start - 60):total[0].start] if total else ""
        return bool(total) and bool(CUMULATIVE.search(before) or HAS_RAISED.search(before) or TOTAL_CUE.search(before))

    def _total(self, where: str, offset: int, sentence: str, amounts: list[Money], round_: Event | None) -> None:
        """What a company has raised in all: stated ("has raised $60 million to date", "bringing its
        total funding to $50 million"), or before the article's round ("had previously raised $81
        million"), which ``events.combine`` adds the round to."""
        for m in amounts:
            before, after = sentence[max(0, m.start - 60):m.start], sentence[m.end:m.end + 60]
            if VALUATION.search(before, max(0, len(before) - 35)) \
                    or NOT_A_ROUND.search(before, max(0, len(before) - 25)):
                continue
            # Not "has raised $24 million to fuel expansion": a lead's present perfect is the new round;
            # nor "announced that it had raised $50 million in a round".
            earlier = (CUMULATIVE.search(before) and not ROUND_FOLLOWS.match(after)
                       or re.search(r"\bhad\s+raised\b", before) and PRIOR.search(after))
            had = earlier and not REPORTED_HAD.search(before)
            total_of = TOTAL_OF.search(before)
            funding = FUNDING_VERB.search(before) or FUNDING_WORD.search(before)
            to_date = TO_DATE.match(after)  # not "$100 million, bringing total funding to date to $130 million"
            to_date = to_date and not re.search(r"\b(?:bring|total|tak)", to_date.group("lead"), re.IGNORECASE)
            stated = funding and (total_of or to_date) or TOTAL_AFTER.match(after) or (
                RAISED_ALONE.match(after) and not FUNDING_NOUN.search(before[-40:]))
            if (had or stated) and not NAMED_ROUND.match(after) and not FUTURE.search(after[:30]):
                # "its total" is the article's company's, unless a name before says whose: "Recursion took its total"
                said = (total_of.group("whose") or "").lower() if total_of else ""
                named = said in ("its", "their") and self.found.names_in(sentence, 0, m.start)
                whose = self.found.main_span("it", where, offset) if said and not named else None
                company = (self.found.owner(sentence, m.start, offset, where)
                           or round_ and round_.fields.get("company") or whose
                           or self.found.subject(sentence, m.start, offset, where))
                if company is None:
                    return
                event = Event(TOTAL, {"company": company, **figure("prior" if had else "amount", m, where, offset)})
                if self.date:  # as of the article: "raised $X since 2019" is not dated 2019
                    event.fields["date"] = Span(self.date, "", "article", 0, 0)
                self.events.append(event)
                return

    def _is_round_amount(self, sentence: str, amount: Money) -> bool:
        before = sentence[max(0, amount.start - 60):amount.start]
        after = sentence[amount.end:amount.end + 60]
        if (CUMULATIVE.search(before) or HAS_RAISED.search(before) and not ROUND_FOLLOWS.match(after)) \
                and not NAMED_ROUND.match(after):
            return False  # "had previously raised $6 million": what it raised before, in all
        if TOTAL_CUE.search(before) or TOTAL_OF.search(before) or TO_DATE.match(after):
            return False
        if VALUATION.search(before, max(0, len(before) - 35)) \
                or re.match(r"\s*(?:pre|post)[- ]money valuation|\s*valuation", after, re.IGNORECASE):
            return False
        # (searched from a position, not in a slice, so that a word cut by the window is not a word: "fraudu|lent")
        if DEAL_AFTER.match(after) or PLANNED.search(before) or NOT_A_ROUND.search(before, max(0, len(before) - 25)) \
                or MANY_BEFORE.search(before) or SPENT.search(before, max(0, len(before) - 45)) \
                or NOT_A_ROUND_AFTER.match(after) \
                or re.search(r"\bbetween\s+(?:[$€£][\d.,]+(?:\s*(?:[mb]illion|bn|[MB]))?\s+and\s+)?$", before):
            return False
        if INVESTS.search(before):  # the subject is the investor: a round of the company named after "in"
            named = self.found.recipient(sentence, amount.start, amount.end)[1]
            return named is not None or bool(FUNDING_NOUN.search(after[:45]))
        stake = STAKE_IN.match(after)
        if stake and self.found.recipient(sentence, amount.start, amount.end)[1] is None:
            return False  # "Accenture announces $3 billion investment in AI": the subject invests, in no company
        return bool(FUNDING_VERB.search(before) or FUNDING_NOUN.search(before[-45:] + " " + after[:45])
                    or NEW_MONEY.search(before) and NEW_MONEY_FROM.match(after))

    def _raiser_after(self, sentence: str, amount: Money, where: str, offset: int) -> Span | None:
        """"up from the $92 million in series A financing Nuro secured last year": the name the amount's
        clause ends with, doing the raising."""
        if not re.search(r"\b(?:the|an?|its|their|this|that)\s+(?:[a-z]+\s+)?$", sentence[:amount.start]):
            return None  # the object of a verb before it ("Remind scores $40M Netpulse gets $18.6M"): not a clause
        after = self.found.names_in(sentence, amount.end, amount.end + 50)
        gap = sentence[amount.end:after[0][1]] if after else ""
        if after and re.fullmatch(r"(?:\s+[a-z][\w-]*|\s+series\s+\w+)*\s+", gap, re.IGNORECASE) \
                and not re.search(r"\b(?:and|but|while|or)\b", gap) and FUNDING_VERB.match(sentence, after[0][2] + 1):
            return self.found.span(after[0], where, offset)
        return None

    def _round(self, where: str, offset: int, sentence: str, rounds: list[Money], amounts: list[Money]) -> None:
        amount = rounds[0]
        invests = INVESTS.search(sentence[:amount.start])
        named_after, named = self.found.recipient(sentence, amount.start, amount.end)
        its = bool(named_after) and not ROUND_IN.match(sentence, amount.end)  # "invested $5 million in it"
        company = (self.found.span(named, where, offset) if named else self.found.main_span("it", where, offset) if its
                   else self.found.owner(sentence, amount.start, offset, where) or self._raiser_after(sentence, amount,
                                                                                                     where, offset)
                   or self.found.subject(sentence, amount.start, offset, where))
        # "The $83 million funding round was led by Georgian Partners": the round of that figure read before.
        company = company or next((e.fields["company"] for e in reversed(self.events) if e.kind == ROUND
                                   and e.value("amount") == amount.value and "company" in e.fields), None)
        event = Event(ROUND)
        if company:
            event.fields["company"] = company
        event.fields.update(figure("amount", amount, where, offset))
        if invests and named:  # "Google invests $300 million in Anthropic": Google is one of its investors
            event.lists["investors"] = [self.found.span(n, where, offset)
                                        for n in self.found.list_before(sentence, invests.start())]
        self._round_name(event, where, offset, sentence)
        self._valuation(event, where, offset, sentence, amounts)
        # Who backed another round of the main company is said of it, and merges into its round.
        other = OTHER_ROUND_CLAUSE.search(sentence, amount.end)
        split = other.start() if other and normal(other.group("name") or "") != normal(event.value("round") or "") \
            and same_company(event.company, self.main) else len(sentence)
        self._investors(event, where, offset, sentence[:split], after=amount.end)
        if split < len(sentence):
            self._round_details(where, offset + split, sentence[split:], [])
        self._date(event, where, offset, sentence)
        self.events.append(event)

    def _named_rounds(self, where: str, offset: int, sentence: str, amounts: list[Money], read: Span | None,
                      earlier: list[Money]) -> None:
        """Earlier rounds named with their amounts ("following a $20 million series A in May 2018"), or said to be
        earlier ("fresh off a $60 million round"): of the name owning one ("Unravel's $35 million series C"), else
        of the sentence's round or total (``read``) or subject."""
        named_ends = {m.start: n.end() for m in amounts if (n := NAMED_AMOUNT.match(sentence, m.end))}
        # An earlier round's name and date follow it: "a $16.5 million extension to a series B round that closed in
        # March 2017", up to the next amount.
        ends = {m.start: min([a.start for a in amounts if a.start > m.start] + [m.end + 60]) for m in earlier}
        for m in sorted({*[m for m in amounts if m.start in named_ends], *earlier}, key=lambda m: m.start):
            owner = [n for n in self.found.names_in(sentence, 0, m.start) if OWNS.fullmatch(sentence, n[2], m.start)]
            subject = self.found.subject(sentence, m.start, offset, where)  # (for "X, which ..., following a $N")
            unnamed = m in earlier and m.start not in named_ends
            if company := (owner and self.found.span(owner[0], where, offset)
                           or (subject or read if unnamed else read or subject)):
                event = Event(ROUND, {"company": company, **figure("amount", m, where, offset)}, exact=True)
                end = named_ends.get(m.start) or ends[m.start]
                self._round_name(event, where, offset + m.end, sentence[m.end:end])
                when = sentence[m.end:m.end + 40 if m.start in named_ends else end]
                if IN_MONTH.search(when) or IN_YEAR.search(when):  # else undated: not the article's day
                    self._date(event, where, offset + m.end, when)
                self.events.append(event)

    def _round_details(self, where: str, offset: int, sentence: str, amounts: list[Money]) -> None:
        """A sentence with no round amount that names the main round's name, valuation, lead or participants."""
        event = Event(ROUND)
        # Not the name of an earlier round stated with its amount: "following a $130 million series G".
        named = [n for m in amounts if (n := NAMED_AMOUNT.match(sentence, m.end))]
        self._round_name(event, where, offset, "".join(" " if any(n.start() <= i < n.end() for n in named) else c
                                                       for i, c in enumerate(sentence)))
        self._valuation(event, where, offset, sentence, amounts)
        self._investors(event, where, offset, sentence, after=0)
        # "X led the round, and Temasek and Suning.com also participated": the names of the clause
        # before each verb.
        for pattern, key in ((LED_THE_ROUND, "lead_investors"), (PARTICIPATED, "investors")):
            verb = pattern.search(sentence)
            if verb is None:
                continue
            clause = max((m.end() for m in re.finditer(r"\b(?:which|whom|where|that)\b|[,;:]\s",
                                                       sentence[:verb.start()])), default=0)
            listed = self.found.list_before(sentence, verb.start()) or self.found.last_name_per_item(sentence, clause,
                                                                                            verb.start())
            if not listed and key == "lead_investors":
                listed = self.found.described_opening(sentence, verb.start())
            names = [self.found.span(n, where, offset) for n in listed if core_name(n[0]) != core_name(self.main)]
            if names:
                event.lists.setdefault(key, []).extend(names[-4:])
        if event.fields or event.lists:
            if self.just_read and INVESTORS_INCLUDE.match(sentence):
                event.fields["company"] = self.just_read  # the round the sentence before told of
            event.fields["details_only"] = Span(True, "", where, offset, offset)
            self.events.append(event)

    # -- fields ----------------------------------------------------------------------------

    def _round_name(self, event: Event, where: str, offset: int, sentence: str) -> None:
        match = ROUND_NAME.search(sentence)
        if match:
            event.fields["round"] = Span(round_name(match.group()), match.group(), where, offset + match.start(),
                                         offset + match.end())

    def _investors(self, event: Event, where: str, offset: int, sentence: str, after: int) -> None:
        plain = unbracketed(sentence)
        for pattern, key in ((LEAD, "lead_investors"), (PARTICIPANTS, "investors")):
            for match in pattern.finditer(sentence, after):
                if key == "investors" and match.group().lower().startswith("from") and LEAD.search(
                        sentence[max(0, match.start() - 12):match.start() + 8]):
                    continue
                stop = CLAUSE_END.search(plain, match.end())
                end = stop.start() if stop else len(sentence)
                items = self.found.last_name_per_item(plain, match.end(), end)
                if re.search(r"(?:investor|backer),?\s+(?:is\s+|was\s+)?$", match.group(), re.IGNORECASE):
                    items = items[:1]  # "lead investor GV, Deepset's round included ...": one name
                elif stop and re.fullmatch(r",\s*and", stop.group()) and "," in plain[match.end():end]:
                    items += self.found.last_of_list(plain, stop.end())  # "co-led by A, B, and C"
                names = [self.found.span(n, where, offset) for n in items if not OWNER_OF.match(plain, n[2])]
                names = [n for n in names if normal(n.value) != normal(self.main) and normal(n.value) not in NOISE]
                known = {normal(s.value) for spans in event.lists.values() for s in spans}
                event.lists.setdefault(key, []).extend(n for n in names if normal(n.value) not in known)
        # "..., with Greycroft leading the round", or the round's amount inside: "Generation led a $100 million
        # investment in Andela" (then the names before "led" lead it).
        led = next((m for m in LED_THE_ROUND.finditer(sentence) if m.start() >= after or m.end() >= after > m.start()),
                   None) if after else None
        if led:
            known = {normal(s.value) for spans in event.lists.values() for s in spans}
            event.lists.setdefault("lead_investors", []).extend(
                self.found.span(n, where, offset)
                for n in self.found.list_before(sentence, len(sentence[:led.start()].rstrip(" ,")))
                if (n[1] >= after or led.start() < after) and normal(n[0]) not in known
                and normal(n[0]) != normal(self.main))
        event.lists = {k: v for k, v in event.lists.items() if v}

    # -- merging ---------------------------------------------------------------------------

    def finish(self) -> list[Event]:
        # A buyer's owner is a company the article tells of ("Automattic’s WordPress VIP acquires Parse.ly", and
        # Automattic raised $300 million), not a place ("Germany’s SAP said it was buying Qualtrics").
        companies = {core_name(e.company) for e in self.events} | {core_name(self.main)}
        for event in self.events:
            if "owner" in event.fields and core_name(event.value("owner")) not in companies:
                del event.fields["owner"]
        for buyer, count in self.counted:  # on a deal of that buyer the article tells of
            deal = next((e for e in self.events if e.kind == ACQUISITION
                         and same_company(e.value("acquirer") or "", buyer.value)), None)
            if deal is not None and count.value > (deal.value("deals_so_far") or 0):
                deal.fields["deals_so_far"] = count
        return combine(self.events, self.main, self.date)

