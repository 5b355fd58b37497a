"""Reading startup events out of an article by rules: funding rounds, acquisitions, IPOs and layoffs.

The rules read one sentence at a time (the title first, then the body): a sentence with a money
amount and a funding verb or noun is a round, one with an acquiring verb an acquisition, and so
on. ``event_names`` finds the names of each sentence; "the company" and "it" are the article's
main company, the first name of its title. Sentences that only add investors, a round name or a
valuation ("Temasek also participated in the Series C") are merged into the main round. Totals
("bringing its total funding to $X", "had previously raised $Y") are facts of their own, never
rounds.

Fast on purpose (regular expressions over sentences): the 1,160-article corpus in about 15 s.
The events are derived data, stored at ingest: bump ``storecheck.ANALYSIS_VERSION`` when these
rules change, and stores re-read their articles on open. ``bench/facts.py`` scores the rules
against hand labels.
"""

from __future__ import annotations

import re

from .entities import core_name, normal
from .event_names import ArticleNames, buys, doer_before, unbracketed, what_was_bought
from .event_patterns import (
    ACQUIRE,
    ACQUIRED_BY,
    ACQUISITION_OF,
    BACKERS,
    CLAUSE_END,
    CUMULATIVE,
    DEAL_AFTER,
    DEAL_PRICE,
    FUNDING_NOUN,
    FUNDING_VERB,
    FUNDING_WORD,
    FUTURE,
    HAS_RAISED,
    IN_MONTH,
    IN_YEAR,
    INVESTS,
    IPO_WORDS,
    LAYOFF_WORDS,
    LEAD,
    LED_THE_ROUND,
    MONTHS,
    NAMED_AMOUNT,
    NAMED_ROUND,
    NEW_MONEY,
    NEW_MONEY_FROM,
    NOISE,
    NOT_A_ROUND,
    NOT_A_ROUND_AFTER,
    OTHER_ROUND_CLAUSE,
    OWNER_OF,
    OWNS,
    PARTICIPANTS,
    PARTICIPATED,
    PLACE_BASED,
    PLANNED,
    PRIOR,
    REPORTED_HAD,
    ROUND_FOLLOWS,
    ROUND_IN,
    ROUND_NAME,
    SOLD_TO,
    SPENT,
    TO_DATE,
    TOTAL_AFTER,
    TOTAL_CUE,
    TOTAL_OF,
    VALUATION,
)
from .events import ACQUISITION, IPO, LAYOFF, ROUND, TOTAL, Event, Span, combine, figure, round_name, same_company
from .text import Money, money, split_sentences


def extract_events(title: str, text: str, date: str = "") -> list[Event]:
    """The events of one article, the ones it is about first. ``date`` (YYYY-MM-DD) dates an event
    the text does not date itself."""
    reader = _Reader(title, text, date or "")
    for where, source in (("title", title), ("body", text)):
        for start, end in split_sentences(source):
            reader.sentence(where, source, start, end)
    return reader.finish()


class _Reader:
    def __init__(self, title: str, text: str, date: str) -> None:
        self.title, self.text, self.date = title, text, date
        self.found = ArticleNames(title, text)
        self.main = self.found.main
        self.events: list[Event] = []

    # -- one sentence ----------------------------------------------------------------------

    def sentence(self, where: str, source: str, start: int, end: int) -> None:
        sentence = source[start:end]
        if sentence.rstrip(" \"”’)").endswith("?"):
            return  # a question asserts nothing: "Will individuals be able to buy a piece of Reddit?"
        amounts = [m for m in money(sentence) if m.has_currency]
        passives = list(ACQUIRED_BY.finditer(sentence))
        for n, verb in enumerate(passives):  # "Counsyl (acquired by Myriad), Teleport (acquired by Topia)"
            self._acquisition(where, start, sentence, amounts, verb, since=passives[n - 1].end() if n else 0)
        # A verb, not the noun of "its purchases of X" (read below).
        active = next((m for m in ACQUIRE.finditer(sentence) if buys(sentence, m)), None)
        if passives or (active and not FUNDING_VERB.match(sentence)
                        and self._acquisition(where, start, sentence, amounts, active)):
            return
        if self._deal_price(where, start, sentence, amounts):
            return
        if (owned := ACQUISITION_OF.search(sentence)) and self._acquisition_of(where, start, sentence, amounts, owned):
            return
        if (sold := SOLD_TO.search(sentence)) and self._sold(where, start, sentence, amounts, sold):
            return
        if layoff := LAYOFF_WORDS.search(sentence):
            self._layoff(where, start, sentence, layoff)
        if IPO_WORDS.search(sentence) and not amounts[:0]:
            self._ipo(where, start, sentence, amounts)
            return
        bought, count = ACQUIRE.search(sentence), len(self.events)  # after "to buy X for": a price, not a round
        rounds = [m for m in amounts if self._is_round_amount(sentence, m) and not (bought and bought.end() <= m.start)]
        if rounds:
            self._round(where, start, sentence, rounds, amounts)
        elif (PARTICIPATED.search(sentence) or LED_THE_ROUND.search(sentence) or ROUND_NAME.search(sentence)
              or BACKERS.search(sentence) or (LEAD.search(sentence) and FUNDING_NOUN.search(sentence))
              or (VALUATION.search(sentence) and amounts and not FUTURE.search(sentence))):
            self._round_details(where, start, sentence, amounts)
        self._total(where, start, sentence, amounts, self.events[-1] if rounds else None)
        read = next((e.fields["company"] for e in self.events[count:] if "company" in e.fields), None)
        own = bool(rounds) and "company" in self.events[count].fields  # else "the startup's total ..., following a"
        self._named_rounds(where, start, sentence, [m for m in amounts if not (own and m is rounds[0])], read)

    def _total(self, where: str, offset: int, sentence: str, amounts: list[Money], round_: Event | None) -> None:
        """What a company has raised in all: stated ("has raised $60 million to date", "bringing its
        total funding to $50 million"), or before the article's round ("had previously raised $81
        million"), which ``events.combine`` adds the round to."""
        for m in amounts:
            before, after = sentence[max(0, m.start - 60):m.start], sentence[m.end:m.end + 60]
            if VALUATION.search(before[-35:]) or NOT_A_ROUND.search(before[-25:]):
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
            stated = funding and (total_of or to_date) or TOTAL_AFTER.match(after)
            if (had or stated) and not NAMED_ROUND.match(after) and not FUTURE.search(after[:30]):
                whose = self.found.main_span("it", where, offset) if total_of and total_of.group("whose") else None
                company = (round_ and round_.fields.get("company") or whose
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
        if VALUATION.search(before[-35:]) or re.match(r"\s*(?:pre|post)[- ]money valuation|\s*valuation", after,
                                                       re.IGNORECASE):
            return False
        if DEAL_AFTER.match(after) or PLANNED.search(before) or NOT_A_ROUND.search(before[-25:]) \
                or SPENT.search(before[-45:]) or NOT_A_ROUND_AFTER.match(after):
            return False
        if INVESTS.search(before):  # the subject is the investor: a round of the company named after "in"
            named = self.found.recipient(sentence, amount.start, amount.end)[1]
            return named is not None or bool(FUNDING_NOUN.search(after[:45]))
        return bool(FUNDING_VERB.search(before) or FUNDING_NOUN.search(before[-45:] + " " + after[:45])
                    or NEW_MONEY.search(before) and NEW_MONEY_FROM.match(after))

    def _round(self, where: str, offset: int, sentence: str, rounds: list[Money], amounts: list[Money]) -> None:
        amount = rounds[0]
        invests = INVESTS.search(sentence[:amount.start])
        named_after, named = self.found.recipient(sentence, amount.start, amount.end)
        its = bool(named_after) and not ROUND_IN.match(sentence, amount.end)  # "invested $5 million in it"
        company = (self.found.span(named, where, offset) if named else self.found.main_span("it", where, offset) if its
                   else self.found.subject(sentence, amount.start, offset, where))
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

    def _named_rounds(self, where: str, offset: int, sentence: str, amounts: list[Money], read: Span | None) -> None:
        """Earlier rounds named with their amounts ("following a $20 million series A in May 2018"): of the name
        owning one ("Unravel's $35 million series C"), else of the sentence's round or total (``read``) or subject."""
        for m, named in ((m, n) for m in amounts if (n := NAMED_AMOUNT.match(sentence, m.end))):
            owner = [n for n in self.found.names_in(sentence, 0, m.start) if OWNS.fullmatch(sentence, n[2], m.start)]
            if company := (owner and self.found.span(owner[0], where, offset) or read
                           or self.found.subject(sentence, m.start, offset, where)):
                event = Event(ROUND, {"company": company, **figure("amount", m, where, offset)}, exact=True)
                self._round_name(event, where, offset + m.end, sentence[m.end:named.end()])
                when = sentence[m.end:m.end + 40]
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
            event.fields["details_only"] = Span(True, "", where, offset, offset)
            self.events.append(event)

    def _acquisition(self, where: str, offset: int, sentence: str, amounts: list[Money], verb: re.Match[str],
                     since: int = 0) -> bool:
        """``verb`` is "acquired by" (passive: the target comes first) or "acquires"; ``since``: where
        the sentence's previous passive ended, so each of a list's targets is read once."""
        passive = verb.re is ACQUIRED_BY
        before = self.found.names_in(sentence, since, verb.start())
        after = self.found.names_in(sentence, verb.end())
        if passive and re.search(r"\brespectively\b", sentence[verb.end():]) and len(before) > 1 < len(after):
            # "Nurego and Perspica, acquired by GE Digital and Cisco, respectively": pairs in order.
            return all([self._acquired(where, offset, sentence, [], verb, self.found.span(buyer, where, offset),
                                       self.found.span(bought, where, offset), listed=False)
                        for bought, buyer in zip(before[-len(after):], after, strict=False)])
        if passive:
            if before and re.search(r"\b(?:who|whom)\b", sentence[before[-1][2]:verb.start()]):
                return False  # "Mustafa Suleyman, who led research at the startup acquired by Google": not him
            bought = doer_before(sentence, before, verb.start())
            target = self.found.span(bought, where, offset) if bought else self.found.main_span(sentence, where, offset)
            buyer = after[1] if len(after) > 1 and PLACE_BASED.fullmatch(sentence, after[0][2], after[1][1]) else \
                after[0] if after else None  # "acquired by Denver, Colorado-based Ping Identity"
            acquirer = self.found.span(buyer, where, offset) if buyer else None
        else:
            buyer = doer_before(sentence, before, verb.start())
            acquirer = (self.found.span(buyer, where, offset) if buyer
                        else self.found.main_span(sentence[:verb.start()], where, offset))
            bought = what_was_bought(sentence, verb, before, after)
            target = self.found.span(bought, where, offset) if bought else None
        return self._acquired(where, offset, sentence, amounts, verb, acquirer, target, listed=not passive)

    def _acquisition_of(self, where: str, offset: int, sentence: str, amounts: list[Money],
                        owned: re.Match[str]) -> bool:
        """"its acquisition of Emotion Research Lab", "Intel's purchase of Nervana"."""
        if owned.group("its"):  # "Amazon closed its acquisition of X": the sentence's subject, else the article's
            acquirer = (self.found.subject(sentence, owned.start(), offset, where)
                        or self.found.main_span("it", where, offset))
        else:
            owner = [n for n in self.found.names_in(sentence, 0, owned.start() + 1) if n[2] == owned.start()]
            acquirer = self.found.span(owner[-1], where, offset) if owner else None
        after = self.found.names_in(sentence, owned.end(), owned.end() + 40)
        # The name right after "of", or the company its description ends with ("of Internet of things startup Nest").
        bought = what_was_bought(sentence, owned, [], after) if after and after[0][1] == owned.end() else None
        target = self.found.span(bought, where, offset) if bought else None
        return self._acquired(where, offset, sentence, amounts, owned, acquirer, target, listed=True)

    def _sold(self, where: str, offset: int, sentence: str, amounts: list[Money], sold: re.Match[str]) -> bool:
        """"sold web access management company Securant to RSA Security": the last name of what was sold,
        bought by the name after "to"."""
        what = self.found.names_in(sentence, sold.start("what"), sold.end("what"))
        after = self.found.names_in(sentence, sold.end(), sold.end() + 40)
        # The buyer right after "to", or after a description of it: "to cybersecurity company Cyxtera".
        if not what or not after or not re.fullmatch(r"(?:[a-z-]+\s+){0,3}", sentence[sold.end():after[0][1]]):
            return False
        target, acquirer = self.found.span(what[-1], where, offset), self.found.span(after[0], where, offset)
        return self._acquired(where, offset, sentence, amounts, sold, acquirer, target, listed=False)

    def _acquired(self, where: str, offset: int, sentence: str, amounts: list[Money], verb: re.Match[str],
                  acquirer: Span | None, target: Span | None, listed: bool) -> bool:
        """Record the acquisition (and, when ``listed`` and no price is named, one per target of a
        list: "bought X, Y and Z"); False when either side is missing."""
        if acquirer is None or target is None or normal(acquirer.value) == normal(target.value):
            return False
        if listed and not amounts:
            plain = unbracketed(sentence)
            stop = CLAUSE_END.search(plain, target.end - offset)
            end = stop.start() if stop else len(sentence)
            items = self.found.last_name_per_item(plain, target.start - offset, end, ending=True)
            for previous, name in zip(items, items[1:], strict=False):
                gap = plain[previous[2]:name[1]]
                if self.found.names_in(gap) or len(re.findall(r"\b[a-z]\w*", gap)) > 6:
                    break  # a clause, not a list: "By acquiring X, Snowflake will expand in Costa Rica, Colombia"
                if core_name(name[0]) != core_name(acquirer.value):
                    other = self.found.span(name, where, offset)
                    self.events.append(Event(ACQUISITION, {"acquirer": acquirer, "target": other}))
        event = Event(ACQUISITION, {"acquirer": acquirer, "target": target})
        price = next((m for m in amounts if m.start > verb.start() and (m.end < verb.end() or re.search(
            r"\b(?:for|in a|worth|valued at|at|paid|deal)\b[^.]{0,25}$", sentence[verb.end():m.start]))), None)
        if price:
            event.fields.update(figure("price", price, where, offset))
        self._date(event, where, offset, sentence)
        self.events.append(event)
        return True

    def _deal_price(self, where: str, offset: int, sentence: str, amounts: list[Money]) -> bool:
        """"That deal is valued at about $70 billion": the price of the last acquisition read, when it has none."""
        last = next((e for e in reversed(self.events) if e.kind == ACQUISITION), None)
        price = next((m for m in amounts if DEAL_PRICE.search(sentence, 0, m.start)), None)
        if last is None or price is None or "price" in last.fields:
            return False
        last.fields.update(figure("price", price, where, offset))
        return True

    def _ipo(self, where: str, offset: int, sentence: str, amounts: list[Money]) -> None:
        match = IPO_WORDS.search(sentence)
        assert match is not None
        company = self.found.subject(sentence, match.start(), offset, where)
        if company is None:
            return
        kind = "SPAC" if re.search(r"SPAC|special purpose", sentence, re.IGNORECASE) else (
            "direct listing" if "direct listing" in sentence.lower() else "IPO")
        event = Event(IPO, {"company": company, "listing": Span(kind, match.group(), where, offset + match.start(),
                                                                offset + match.end())})
        raised = [m for m in amounts if re.search(r"rais\w*|sold|offering|proceeds", sentence[:m.start][-40:],
                                                  re.IGNORECASE)]
        if raised:
            m = raised[0]
            event.fields["amount"] = Span(m.value, m.text, where, offset + m.start, offset + m.end)
        self._valuation(event, where, offset, sentence, amounts)
        self._date(event, where, offset, sentence)
        self.events.append(event)

    def _layoff(self, where: str, offset: int, sentence: str, match: re.Match[str]) -> None:
        company = self.found.subject(sentence, match.start(), offset, where)
        if company is None:
            return
        event = Event(LAYOFF, {"company": company})
        if match.group("count"):
            event.fields["count"] = Span(int(match.group("count").replace(",", "")), match.group("count"), where,
                                         offset + match.start("count"), offset + match.end("count"))
        else:
            event.fields["share"] = Span(float(match.group("share")) / 100, match.group("share"), where,
                                         offset + match.start("share"), offset + match.end("share"))
        self._date(event, where, offset, sentence)
        self.events.append(event)

    # -- fields ----------------------------------------------------------------------------

    def _round_name(self, event: Event, where: str, offset: int, sentence: str) -> None:
        match = ROUND_NAME.search(sentence)
        if match:
            event.fields["round"] = Span(round_name(match.group()), match.group(), where, offset + match.start(),
                                         offset + match.end())

    def _valuation(self, event: Event, where: str, offset: int, sentence: str, amounts: list[Money]) -> None:
        for match in VALUATION.finditer(sentence):
            near = [m for m in amounts if 0 <= m.start - match.end() < 30 or 0 <= match.start() - m.end < 6]
            if near:
                m = near[0]
                event.fields["valuation"] = Span(m.value, m.text, where, offset + m.start, offset + m.end)
                kind = match.group("kind") or (re.search(r"\b(pre|post)[- ]money", sentence[m.end:m.end + 20],
                                                         re.IGNORECASE) or [None, None])[1]
                if kind:
                    event.fields["valuation_kind"] = Span(kind.lower(), kind, where, offset + match.start(),
                                                          offset + match.end())
                return

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

    def _date(self, event: Event, where: str, offset: int, sentence: str) -> None:
        match = IN_MONTH.search(sentence)
        year = self.date[:4]
        if match:
            month = MONTHS.index(match.group(1).lower()) + 1
            stated = match.group(3)
            if not stated and year.isdigit() and self.date[5:7].isdigit() and month > int(self.date[5:7]):
                stated = str(int(year) - 1)  # "in November", written in May: last year's
            value = f"{stated or year}-{month:02d}" if (stated or year) else ""
        elif (found := IN_YEAR.search(sentence)) and found.group(1) != year:
            match, value = found, found.group(1)
        else:
            if self.date:
                event.fields["date"] = Span(self.date, "", "article", 0, 0)
            return
        if value:
            event.fields["date"] = Span(value, match.group(), where, offset + match.start(), offset + match.end())

    # -- merging ---------------------------------------------------------------------------

    def finish(self) -> list[Event]:
        return combine(self.events, self.main, self.date)

