"""Acquisitions, IPOs and layoffs read from one sentence: the deal half of ``event_reader``'s reader.

``DealSentences`` is a mixin of ``event_reader._Reader``: it reads with the reader's names of the
article (``found``), appends to its ``events`` and dates by its article ``date``; its field readers
for dates and valuations serve rounds too.
"""

from __future__ import annotations

import re

from .entities import core_name, normal
from .event_names import ArticleNames, buys, doer_before, unbracketed, what_was_bought
from .event_patterns import (
    ACQUIRE,
    ACQUIRED_BY,
    ACQUISITION_OF,
    AT_PRICE,
    CALLED_OFF,
    CLAUSE_END,
    COUNTS,
    DEAL_COUNT,
    DEAL_NOUN,
    DEAL_PRICE,
    DESCRIBES,
    IPO_WORDS,
    IT_DID,
    MAIN,
    MORE_TARGETS,
    NTH_DEAL,
    ORDINALS,
    OWN_DEAL,
    PART_OF_A_PERIOD,
    PLACE_BASED,
    POSSESSIVE_PRICE,
    VALUATION,
    WHICH_IT,
    layoff_share,
)
from .events import ACQUISITION, IPO, LAYOFF, Event, Span, figure, stated_date
from .text import Money


class DealSentences:
    found: ArticleNames
    events: list[Event]
    counted: list[tuple[Span, Span]]  # (buyer, how many acquisitions it has made), as stated
    date: str

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

    def _date(self, event: Event, where: str, offset: int, sentence: str) -> None:
        if span := stated_date(sentence, self.date, where, offset):
            event.fields["date"] = span

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
            if bought and re.search(r"\b(?:it|they)\s+(?:\w+\s+){1,2}$", sentence[bought[2]:verb.start()]) \
                    and (cue := re.search(r"\b(?:including|such as|like)\s", sentence[:bought[1]])) \
                    and sum(n[1] > cue.start() for n in before) > 1:
                # "The company claims customers including Okta and Airbnb, but it was acquired by Vista": "it" is
                # not a name of the list, but the one the sentence opens with; none when it opens with none.
                if before[0][1] > 2:
                    return False
                bought = before[0]
            target = self.found.span(bought, where, offset) if bought else self.found.main_span(sentence, where, offset)
            buyer = after[1] if len(after) > 1 and PLACE_BASED.fullmatch(sentence, after[0][2], after[1][1]) else \
                after[0] if after else None  # "acquired by Denver, Colorado-based Ping Identity"
            acquirer = self.found.span(buyer, where, offset) if buyer else None
        elif before and WHICH_IT.fullmatch(sentence, before[-1][2], verb.start()):
            # "Ubisoft ..., outside of Ketchapp, which it acquired in 2016": the sentence's subject (else the
            # article's company) bought the name before.
            acquirer = (self.found.subject(sentence, before[-1][1], offset, where)
                        or self.found.main_span("it", where, offset))
            target = self.found.span(before[-1], where, offset)
        else:
            buyer = doer_before(sentence, before, verb.start())
            # "Today, the company announced it has acquired X": the article's company (not "it will ensure that
            # anyone buying the latest Pixel phone"). "The company" after names is the one the sentence opens with:
            # "IBM's purchase of Instana comes days after the company snatched up TruQua" (not Instana).
            clause = sentence[:verb.start()]
            said = None
            if buyer and re.search(r"(?<!, )\bthe (?:company|firm)\s+(?:\w+\s+){0,2}$", clause[buyer[2]:],
                                   re.IGNORECASE):
                buyer = before[0] if before[0][1] <= 2 or sentence[before[0][2]:before[0][2] + 1] == "," else None
            elif buyer and (pronoun := re.search(r"\b(?:it|they)\s+(?:\w+\s+){0,2}$", clause[buyer[2]:])):
                # "WorkRamp, which Blosser founded with Arsh Mand, pivoted after it acquired Prelude": "it" is the
                # subject of the clause before it, not the last name; after "The company behind ChatGPT and Dall-E 2
                # just announced", the article's company.
                at = buyer[2] + pronoun.start()
                said = self.found.main_span("it", where, offset) \
                    if MAIN.match(sentence.lstrip()) and not re.search(r"[–—:;]", sentence[:at]) \
                    else self.found.subject(sentence, at, offset, where)
            acquirer = said or (self.found.span(buyer, where, offset) if buyer
                                else self.found.main_span("it" if IT_DID.search(clause) else clause, where, offset))
            bought = what_was_bought(sentence, verb, before, after)
            target = self.found.span(bought, where, offset) if bought else None
        # "Intel-acquired Nervana and Tesla": the compound describes one name, not a list.
        listed = not passive and sentence[verb.start() - 1:verb.start()] != "-"
        return self._acquired(where, offset, sentence, amounts, verb, acquirer, target, listed=listed)

    def _acquisition_of(self, where: str, offset: int, sentence: str, amounts: list[Money],
                        owned: re.Match[str]) -> bool:
        """"its acquisition of Emotion Research Lab", "Intel's purchase of Nervana"."""
        if CALLED_OFF.search(sentence, 0, owned.start() + 1):
            return False  # a deal that did not happen
        if owned.group("its") or owned.group("done"):
            # "Amazon closed its acquisition of X", "Didi Chuxing has confirmed the acquisition of Uber China": the
            # sentence's subject, else the article's.
            acquirer = (self.found.subject(sentence, owned.start(), offset, where)
                        or self.found.main_span("it", where, offset))
        else:
            owner = [n for n in self.found.names_in(sentence, 0, owned.start() + 1) if n[2] == owned.start()]
            # "The chipmaker’s acquisition of Altera": a company described, not named, is the last one named
            # before ("Burnette worked at Uber following the company’s acquisition of Otto"), else the article's.
            described = not owner and re.search(r"\bthe\s+(?:[a-z-]+\s+)?(?:company|firm|startup|giant|\w+maker)$",
                                                sentence[:owned.start()], re.IGNORECASE)
            named = self.found.names_in(sentence, 0, owned.start()) if described else []
            acquirer = self.found.span(owner[-1], where, offset) if owner else \
                self.found.span(named[-1], where, offset) if named else \
                self.found.main_span("it", where, offset) if described else None
        after = self.found.names_in(sentence, owned.end(), owned.end() + 80)
        # The name right after "of", or the company its description ends with ("of Internet of things startup Nest",
        # "of Philadelphia-based Presto AI").
        described = bool(after) and after[0][1] != owned.end() and bool(owned.group("its"))
        bought = what_was_bought(sentence, owned, [], after) if after and (not described or DESCRIBES.search(
            sentence, owned.end(), after[-1][1])) else None
        target = self.found.span(bought, where, offset) if bought else None
        if described and bought:
            # After "its", a description's company ("PayPal is pushing through its $2.2 billion acquisition of
            # European POS startup iZettle") is bought by the last name before, when that name acts (not "its VR
            # Ozo camera, its recent acquisition of digital health startup Withings").
            doer = self.found.names_in(sentence, 0, owned.start())[-1:]
            acting = doer and not re.search(r"(?:\b(?:its|their)|['’]s?)\s+(?:[^\s,]+\s+){0,3}$", sentence[:doer[0][1]])
            acquirer = self.found.span(doer[0], where, offset) if acting else None
        return self._acquired(where, offset, sentence, amounts, owned, acquirer, target, listed=True)

    def _later_deals(self, where: str, offset: int, sentence: str, amounts: list[Money]) -> None:
        """Deals said later in a sentence whose first deal was just read: "It bought CafeSoft in 2015 and in June
        2016 acquired Portadi"; "its acquisition of Altera ..., and its purchases of Movidius and Nervana". With no
        new name before its word, the buyer is the first deal's; after one, the deal is read as a sentence's."""
        first = self.events[-1]
        at = first.fields["target"].end - offset
        cues = sorted([m for m in ACQUIRE.finditer(sentence, at) if buys(sentence, m)]
                      + list(ACQUISITION_OF.finditer(sentence, at)), key=lambda m: m.start())
        for cue in cues:
            if cue.start() < at or re.search(r"\b(?:was|were|been|being|is)\s+(?:\w+\s+)?$", sentence[:cue.start()]):
                continue  # inside the deal just read, or a passive: "which in turn was bought out by Oracle"
            count = len(self.events)
            gap = self.found.names_in(unbracketed(sentence), at, cue.start())
            if gap and not (cue.re is ACQUISITION_OF and cue.group("its")):
                read = (self._acquisition_of(where, offset, sentence, amounts, cue) if cue.re is ACQUISITION_OF
                        else self._acquisition(where, offset, sentence, amounts, cue, since=at))
            else:
                after = self.found.names_in(sentence, cue.end(), cue.end() + 80)
                bought = what_was_bought(sentence, cue, [], after) if after else None
                read = bool(bought) and self._acquired(where, offset, sentence, amounts, cue, first.fields["acquirer"],
                                                       self.found.span(bought, where, offset), listed=True)
            if read:
                at = max(e.fields["target"].end - offset for e in self.events[count:])

    def _named_deal(self, where: str, offset: int, sentence: str, amounts: list[Money]) -> bool:
        """"Honeywell’s SCADAfence acquisition", "Salesforce's $392M RelateIQ acquisition": the owner bought
        the name before the noun (at the price between)."""
        for deal in DEAL_NOUN.finditer(sentence):
            names = self.found.names_in(sentence, max(0, deal.start() - 80), deal.start())
            between = POSSESSIVE_PRICE.match(sentence, names[-2][2]) if len(names) > 1 else None
            if between and between.end() == names[-1][1] and names[-1][2] == deal.start() \
                    and not CALLED_OFF.search(sentence, 0, names[-2][1]):
                acquirer, target = (self.found.span(n, where, offset) for n in names[-2:])
                return self._acquired(where, offset, sentence, amounts, between, acquirer, target, listed=False)
            own = OWN_DEAL.search(sentence, 0, names[-1][1]) if names and names[-1][2] == deal.start() else None
            if own and not CALLED_OFF.search(sentence, 0, own.start()):
                # "with Okta recently completing its ... acquisition": the name right before the verb did it.
                doer = [n for n in names[:-1] if re.fullmatch(r"(?:\s+[a-z]+){0,3}\s+", sentence[n[2]:own.start()])]
                # No article's company to fall back on: in "As we have seen since its SoftBank acquisition, Arm
                # has ..." "its" is the Arm named after it.
                acquirer = (self.found.span(doer[-1], where, offset) if doer
                            else self.found.subject(sentence, own.start(), offset, where))
                target = self.found.span(names[-1], where, offset)
                return self._acquired(where, offset, sentence, amounts, own, acquirer, target, listed=False)
        return False

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
        if acquirer is None or target is None or normal(acquirer.value) == normal(target.value) \
                or re.search(r"\b(?:Unit|Division)$", target.value):  # "its Application Migration Business Unit"
            return False
        if listed and not amounts:
            plain = unbracketed(sentence)
            stop = CLAUSE_END.search(plain, target.end - offset)
            end = stop.start() if stop else len(sentence)
            items = self.found.last_name_per_item(plain, target.start - offset, end, ending=True)
            for previous, name in zip(items, items[1:], strict=False):
                gap = plain[previous[2]:name[1]]
                # A clause, not a list: "By acquiring X, Snowflake will expand in Costa Rica, Colombia", "Acquires
                # Tutela, Creating Global Provider".
                if self.found.names_in(gap) or len(re.findall(r"\b[a-z]\w*", gap)) > 6 \
                        or re.match(r"\w+ing\s", name[0]):
                    break
                if core_name(name[0]) != core_name(acquirer.value):
                    other = self.found.span(name, where, offset)
                    self.events.append(Event(ACQUISITION, {"acquirer": acquirer, "target": other}))
        event = Event(ACQUISITION, {"acquirer": acquirer, "target": target})
        at = acquirer.start - offset
        if acquirer.where == where and 0 <= at and sentence[at:acquirer.end - offset] == acquirer.text \
                and (owner := self.found.owner(sentence, at, offset, where)):
            event.fields["owner"] = owner  # "Automattic’s WordPress VIP acquires Parse.ly": Automattic's deal too
        price = _price(sentence, amounts, verb)
        if price:
            event.fields.update(figure("price", price, where, offset))
        self._date(event, where, offset, sentence)
        self.events.append(event)
        if listed and price:
            self._more_priced(where, offset, sentence, amounts, price, acquirer)
        return True

    def _more_priced(self, where: str, offset: int, sentence: str, amounts: list[Money], price: Money,
                     acquirer: Span) -> None:
        """"HP bought 3PAR for $2.35 billion as well as ArcSight for $1.5 billion": each target at its price."""
        end = price.end
        for m in (m for m in amounts if m.start > price.end):
            names = self.found.names_in(sentence, end, m.start)
            if not (names and MORE_TARGETS.fullmatch(sentence, end, names[-1][1])
                    and AT_PRICE.fullmatch(sentence, names[-1][2], m.start)):
                return
            event = Event(ACQUISITION, {"acquirer": acquirer, "target": self.found.span(names[-1], where, offset)})
            event.fields.update(figure("price", m, where, offset))
            self._date(event, where, offset, sentence)
            self.events.append(event)
            end = m.end

    def _deal_count(self, where: str, offset: int, sentence: str) -> None:
        """How many acquisitions a buyer has made, as stated ("Vectrix is the eighth acquisition for
        Cloudflare"): kept in ``counted`` for ``finish`` to put on that buyer's deal."""
        for match in (*NTH_DEAL.finditer(sentence), *DEAL_COUNT.finditer(sentence)):
            if PART_OF_A_PERIOD.match(sentence, match.end()):
                continue  # "its fifth acquisition of the year", "third purchase in recent months"
            said = match.group("n").lower()
            n = ORDINALS.get(said) or COUNTS.get(said) or int(re.sub(r"\D", "", said))
            by = [name for name in self.found.names_in(sentence, match.start(), match.end() + 30)
                  if re.search(r"\b(?:for|by)\s+$", sentence[:name[1]])]
            buyer = self.found.owner(sentence, match.start(), offset, where) or (
                self.found.span(by[0], where, offset) if by else self.found.main_span("it", where, offset))
            if buyer:
                start, end = offset + match.start("n"), offset + match.end("n")
                self.counted.append((buyer, Span(n, match.group("n"), where, start, end)))

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
        named = company.end - offset if company and company.where == where else -1  # (in this sentence)
        if company is None or 0 <= named <= len(sentence) and len(self.found.list_before(sentence, named)) > 1:
            return  # (nor several: "Cruise, Kodiak Robotics, and Ike have shed hundreds of employees collectively")
        size = Span(match.group("size"), match.group("size"), where, offset + match.start("size"),
                    offset + match.end("size"))
        event = Event(LAYOFF, {"company": company, "size": size})
        if match.group("count"):
            event.fields["count"] = Span(int(match.group("count").replace(",", "")), match.group("count"), where,
                                         offset + match.start("count"), offset + match.end("count"))
        elif match.group("share") or match.group("part"):
            name = "share" if match.group("share") else "part"
            value = float(match.group("share")) / 100 if match.group("share") else layoff_share(match.group("part"))
            event.fields["share"] = Span(value, match.group(name), where, offset + match.start(name),
                                         offset + match.end(name))
        self._date(event, where, offset, sentence)
        self.events.append(event)


def _price(sentence: str, amounts: list[Money], verb: re.Match[str]) -> Money | None:
    """A deal's price: after its word ("for $1.4 billion", "in a deal worth"), not a valuation, or before it
    ("paid more than $200 million to acquire Siri", "a pending $35 billion deal to buy Xilinx")."""
    after = next((m for m in amounts if m.start > verb.start() and (m.end < verb.end() or re.search(
        r"\b(?:for|in a|worth|valued at|at|paid|deal)\b[^.]{0,25}$", sentence[verb.end():m.start]))
        and not re.match(r"\s*(?:(?:pre|post)[- ]money\s+)?valuation", sentence[m.end:])), None)
    return after or next((m for m in amounts if m.end <= verb.start() and re.fullmatch(
        r"\s+(?:(?:deal|agreement|offer|bid)\s+)?to\s+", sentence[m.end:verb.start()]) and (
        re.search(r"\b(?:pa(?:y|id|ys|ying))\s+(?:[a-z]+\s+){0,2}$", sentence[:m.start])
        or re.match(r"\s+(?:deal|agreement|offer|bid)\b", sentence[m.end:]))), None)
