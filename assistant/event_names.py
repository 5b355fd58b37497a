"""The names a sentence of an article holds, for the event rules of ``event_reader``.

Names come from the article's own name list (``entities.extract_names``) and capitalised runs,
minus places, adjectives ("Texas-based") and modifiers ("RFID company"). The article's main
company is the first name of its title (the name after "in" when the title's subject is the
investor), else the body's commonest. ``subject`` says who did what a sentence reports, as a
``Span``: a name outside asides and investor clauses, or the main company for "it";
``what_was_bought`` says which name a buying verb takes, if any; ``recipient`` which company an
amount went to when the sentence names it after the amount ("invests $1 billion in OpenAI").
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

from .entities import and_spelling, extract_names, normal
from .event_patterns import (
    ACQUIRE,
    ADJECTIVE_PREFIX,
    ADJECTIVE_SUFFIX,
    AFTER_ASIDE,
    AFTER_PREPOSITION,
    ANNOUNCED,
    APPOSITION,
    CALLED_OFF,
    CAPITALISED_RUN,
    CLAUSE_END,
    DESCRIBED_SAYS_IT,
    DESCRIBES,
    DESCRIBING,
    DESCRIPTION,
    FUNDING_FOR,
    FUNDING_VERB,
    GENERIC,
    GENERIC_SUBJECT,
    HYPOTHETICAL,
    INTO_PROSE,
    INVESTOR_HEADLINE,
    INVESTS,
    MAIN,
    MAKER,
    NOISE,
    NOT_A_TARGET,
    NOT_NAME_WORDS,
    PLACE,
    PLACE_BASED,
    PRONOUN_SUBJECT,
    ROLE_BEFORE,
    ROUND_IN,
    SAYS_IT,
    SHARES,
    THE_COMPANY_OF,
)
from .events import Span

Name = tuple[str, int, int]  # the name, and where it starts and ends in the sentence


class ArticleNames:
    """The names of one article, found in any of its sentences."""

    def __init__(self, title: str, text: str) -> None:
        self.title, self.text = title, text
        names = [n for n in extract_names(title, text) if len(n) > 1 and normal(n) not in NOISE]
        names += [and_spelling(n) for n in names if " & " in n and and_spelling(n) in f"{title}\n{text}"]
        self.names = sorted(set(names), key=len, reverse=True)
        self.pattern = (re.compile(r"(?<![\w])(?:" + "|".join(re.escape(n) for n in self.names) + r")(?![\w])")
                        if self.names else None)
        # The names a list must not be cut inside: "Fidelity Management & Research", "Weights and Biases";
        # but not two names the article also writes alone ("from Google & Kleiner Perkins").
        joined = [n for n in self.names if re.search(r" (?:&|and) ", n) and not _both_alone(n, f"{title}\n{text}")]
        self._joined = re.compile("|".join(re.escape(n) for n in joined)) if joined else None
        self.main = self._main_company()
        # In "Google acquires North", "the startup" is North, not Google.
        buying = next((m for m in ACQUIRE.finditer(title) if buys(title, m)), None)
        bought = self.names_in(title, buying.end()) if buying and self.main and self.main in title[:buying.start()] \
            else []
        self.bought = bought[0][0] if bought and bought[0][1] - buying.end() < 40 else ""

    def _main_company(self) -> str:
        """The title's first name that the body uses too (the title's subject), else the body's commonest.
        In "Google invests $300 million in Anthropic" the subject is the investor: the name after "in"."""
        invests = INVESTOR_HEADLINE.search(self.title)
        after = self.names_in(self.title, invests.end(), invests.end() + 60) if invests else []
        # "Rocket Internet's Amazon clone Lazada secures $250M": the name right before the funding verb.
        raising = [n for n in self.names_in(self.title) if FUNDING_VERB.match(self.title, n[2] + 1)]
        lowered = self.text.lower()
        for match in after[:1] + raising[:1] + self.names_in(self.title):
            if re.match(r"[-\s]backed\b", self.title[match[2]:], re.IGNORECASE):
                continue  # "Warren Equity-Backed M&D Distributors Expands": the backer is not the subject
            if match[0] in self.text or re.search(rf"(?<!\w){re.escape(match[0].lower())}(?!\w)", lowered):
                return match[0]  # (as a word: "Big" is not in "bigger")
        counts: dict[str, int] = {}
        for name, start, _ in self.names_in(self.text[:3000]):
            if not re.search(r"\bon\s+$", self.text[max(0, start - 4):start]):  # "Read more on VentureBeat"
                counts[name] = counts.get(name, 0) + 1
        # A name the title opens with, raising, misspelt too ("Antrhopic gets $100M"); else only a name the body is
        # plainly about: a roundup ("Funding Daily: Big commerce") names many about as often, and "it" in each part
        # is that part's company.
        first = re.match(r"\W*([\w.'’-]+)\s+", self.title)
        opening = next((name for name in counts if first and FUNDING_VERB.match(self.title, first.end())
                        and OSA.normalized_similarity(first.group(1).lower(), name.lower()) >= 0.75), None)
        top = sorted(counts.items(), key=lambda item: -item[1])[:2] + [("", 0)] * 2
        return opening or (top[0][0] if top[0][1] > 1.5 * top[1][1] else "")

    def names_in(self, sentence: str, start: int = 0, end: int | None = None) -> list[Name]:
        """The article's names in ``sentence[start:end]``, and capitalised runs it does not list
        (a headline's "Redpoint, Greylock"), minus modifiers ("RFID company", "SMS service")."""
        end = len(sentence) if end is None else end
        found = [(m.group(), m.start(), m.end()) for m in self.pattern.finditer(sentence, start, end)] \
            if self.pattern else []
        taken = [(s, e) for _, s, e in found]
        for m in CAPITALISED_RUN.finditer(sentence, start, end):
            opening = not sentence[:m.start()].strip(" \"'“‘")  # (a sentence's first word, quoted or not)
            if not opening and not any(s <= m.start() < e or m.start() <= s < m.end() for s, e in taken):
                word = m.group()
                if normal(word) not in NOISE and word.lower() not in NOT_NAME_WORDS and len(word) > 1:
                    found.append((word, m.start(), m.end()))
        found.sort(key=lambda n: n[1])
        kept = []
        for name, start_, end_ in found:
            if PLACE.match(sentence, end_) and " of " in name:  # "Align Capital of Austin, Texas": Align Capital
                name = name[:name.rindex(" of ")]
                end_ = start_ + len(name)
            comma = sentence.rfind(",", 0, start_)
            state = PLACE.match(sentence, comma) if comma >= 0 and not sentence[comma + 1:start_].strip() else None
            if state and state.end() == end_:
                continue  # the state after a city: "Austin, Texas"
            if (DESCRIBES.match(sentence, end_) or PLACE.match(sentence, end_)
                    or (" " in name and name.isupper() and not INTO_PROSE.match(sentence, end_))
                    or ADJECTIVE_SUFFIX.match(sentence, end_) or name.lower() in GENERIC):
                continue  # "RFID company", "Redwood City, Calif.", a dateline's "SAN FRANCISCO"
            prefix = ADJECTIVE_PREFIX.match(name)  # "Benchmark-backed Metaweb" -> "Metaweb"
            if prefix:
                name, start_ = name[prefix.end():], start_ + prefix.end()
            if name and not ADJECTIVE_PREFIX.fullmatch(name + " "):
                kept.append((name, start_, end_))
        return kept

    def last_name_per_item(self, sentence: str, start: int, end: int, ending: bool = False) -> list[Name]:
        """The names of a list ("X, Y and Z"), one per item: in "state investment firm Temasek
        Holdings" the item's last name, not the "Singaporean" that describes it, and none from an
        apposition ("the London-based firm cofounded by Al Gore"). With ``ending``, an item counts
        only when it ends with its name and has at most three words before it: "acquires MuseDev,
        expands Nexus code analysis platform" is a clause, not a second item."""
        found = []
        for item in re.finditer(r"[^,]+?(?=,|\band\b|&|$)", self._unjoined(sentence)[start:end]):
            names = self.names_in(sentence, start + item.start(), start + item.end())
            before = sentence[start + item.start():names[-1][1]] if names else ""
            if re.search(r"\bby\b", before):  # an apposition: "the London-based firm cofounded by Al Gore"
                continue
            trailing = sentence[names[-1][2]:start + item.end()].strip() if names else ""
            if names and not (ending and (trailing or len(before.split()) > 3)):
                found.append(names[-1])
        return found

    def list_before(self, sentence: str, upto: int) -> list[Name]:
        """The names of a list that ends right before ``upto``: "Existing investors Battery Ventures,
        Intel Capital, and Iconiq Capital led" gives all three. Items are walked back while each
        ends with a name; one with words before its name ("Existing investors ...") opens the list."""
        which = re.search(r",\s*(?:which|who)\s*$", sentence[:upto])  # "Pitango Growth, which led the round"
        upto = which.start() if which else upto
        joints = list(re.finditer(r"\s*,\s*(?:and\s+)?|\s+(?:and|&)\s+", self._unjoined(sentence)[:upto]))
        starts = [0] + [j.end() for j in joints]
        ends = [j.start() for j in joints] + [upto]
        found: list[Name] = []
        for start, end in reversed(list(zip(starts, ends, strict=True))):
            names = self.names_in(sentence, start, end) or self._opening(sentence, start, end)
            if not names or sentence[names[-1][2]:end].strip():
                break
            found.insert(0, names[-1])
            if sentence[start:names[-1][1]].strip():
                break
        return found

    def _unjoined(self, sentence: str) -> str:
        """``sentence`` with the "&" and "and" inside the article's names blanked (same length), so
        a list is split between its names, never inside one."""
        if not self._joined:
            return sentence
        return self._joined.sub(lambda m: re.sub(r"&|\band\b", lambda j: "\0" * len(j.group()), m.group()),
                                sentence)

    def last_of_list(self, sentence: str, start: int) -> list[Name]:
        """The name that alone makes up what follows ``start`` up to the clause's end: the last item
        of a list written with a comma before "and"."""
        stop = CLAUSE_END.search(sentence, start)
        end = stop.start() if stop else len(sentence.rstrip(" ."))
        names = self.names_in(sentence, start, end)
        alone = len(names) == 1 and not (sentence[start:names[0][1]] + sentence[names[0][2]:end]).strip()
        return names if alone else []

    def described_opening(self, sentence: str, upto: int) -> list[Name]:
        """"Andreessen Horowitz, one of the most active game investors, led the round": the name the
        sentence opens with, when an aside set off by commas comes between it and ``upto``."""
        comma = sentence.find(",")
        if comma <= 0 or not sentence[:upto].rstrip().endswith(","):
            return []
        return [n for n in self.names_in(sentence, 0, comma) if (n[1], n[2]) == (0, comma)]

    def _opening(self, sentence: str, start: int, end: int) -> list[Name]:
        """A capitalised run that opens the sentence and is all of a list's first item ("Sequoia led
        the round"): a name unless the article writes one of its words in lower case ("Investors")
        or a comma sets it apart ("Elsewhere, ...")."""
        run = CAPITALISED_RUN.fullmatch(sentence, start, len(sentence[:end].rstrip())) if start == 0 else None
        if run is None or sentence[run.end():].lstrip().startswith(",") or run.group().lower() in NOT_NAME_WORDS:
            return []
        lower = (re.search(rf"(?<![\w.]){re.escape(word.lower())}(?!\w)", self.text) for word in run.group().split())
        return [] if any(lower) else [(run.group(), run.start(), run.end())]

    # -- who did it ---------------------------------------------------------------------------

    def _subject_candidates(self, sentence: str, upto: int) -> list[Name]:
        return [n for n in self.names_in(sentence, 0, upto)
                if not AFTER_PREPOSITION.search(sentence[max(0, n[1] - 16):n[1]])
                and not re.search(r"(?:\bex-|\bformer\s+)$", sentence[max(0, n[1] - 7):n[1]], re.IGNORECASE)
                and not ROLE_BEFORE.search(sentence, max(0, n[1] - 50), n[1])  # "ZappRx founder Zoe Barry has landed"
                and not sentence[n[2]:n[2] + 2].lstrip().startswith(":")  # a label: "CB Insights: AI funding hit"
                and (not re.match(r"\s*(?:--|—|\(|\s*\()", sentence[n[2]:n[2] + 3]) or APPOSITION.match(sentence, n[2])
                     or re.match(r"\s*\(\s*(?:which|who\b|www\.|https?:|[A-Z]+:)", sentence[n[2]:]))
                # ("Pony.ai (which raised $100M)", "AgencyKPI ( www.agencykpi.com )", "Zoom (NASDAQ: ZM)")
                and not _in_closed_aside(sentence, n, upto)]

    def subject(self, sentence: str, upto: int, offset: int, where: str) -> Span | None:
        """Who did it: the last name before ``upto`` outside an investor clause, or the main company
        for "the company", "it" and titles that start with it."""
        clause = sentence[:upto]
        # Not inside an apposition: in "Acme, a startup backed by Foo Ventures, raised" it is Acme.
        asides, at = [], 0
        while aside := APPOSITION.search(clause, at):  # asides in a row share a comma: ", the AI startup, known for"
            asides.append((aside.start(), aside.end()))
            at = aside.end() - (clause[aside.end() - 1] == ",")
        outside = "".join(" " if any(s <= i < e for s, e in asides) else c for i, c in enumerate(clause))
        # (Not a figure's "from": "Hubilo grew from 30 employees to more than 100, and secured $4.5 million".)
        cut = max((m.end() for m in re.finditer(r"\b(?:from|by|with|including|led by)\b(?!\s+[\d$€£])", outside)),
                  default=-1)
        candidates = [n for n in self._subject_candidates(sentence, upto)
                      if not re.match(r"\s*(?:'s|’s)?\s*(?:-backed|led)", sentence[n[2]:])
                      and not any(s < n[1] < e for s, e in asides)
                      and not (sentence[max(0, n[1] - 4):n[1]].lower() == "the " and sentence[n[2]:n[2] + 2].strip()
                               and sentence[n[2] + 1:n[2] + 2].islower())]  # "The San Francisco provider"
        # Examples are not who did it: "Snyk, a platform used at companies like Google and Atlassian, announced".
        example = re.search(r"\b(?:like|such as)\s+(?![^,]*,\s*$)", clause)
        if example and any(n[1] < example.start() for n in candidates) and not (
                candidates and re.search(r"\b(?:which|that|who)\b", clause[candidates[-1][2]:])):  # "ViSenze, which"
            candidates = [n for n in candidates if n[1] < example.start()]
        opening = [n for n in candidates if n[1] <= 2 and any(s == n[2] for s, _ in asides)]
        candidates = [n for n in candidates if n[1] > cut or cut < 0]
        if not candidates and opening and cut >= 0:
            # "Gatik, a startup ..., emerged from stealth with $4.5 million": no name after the
            # "with"; the name the sentence opens with, described in an apposition, did it.
            return self.span(opening[0], where, offset)
        generic = GENERIC_SUBJECT.search(clause)
        if generic and not any(n[1] > generic.start() for n in candidates):
            return None  # "health care startups raised $80.6 billion in 2020": no one company
        pronoun = PRONOUN_SUBJECT.search(clause[candidates[-1][2]:]) if candidates else None
        if pronoun and candidates[0][1] <= 2 and SAYS_IT.match(sentence, candidates[0][2]):
            return self.span(candidates[0], where, offset)  # "Bigwords.com also says it's raised $300,000"
        # "Anthropic, a San Francisco-based AI startup and another rival to OpenAI, announced that it has raised".
        said = next((n for n in candidates if DESCRIBED_SAYS_IT.match(sentence, n[2])), None) if pronoun else None
        if said:
            return self.span(said, where, offset)
        if candidates and not pronoun:
            # "Rafay, whose customers include Verizon and Appzen, has raised": the name the sentence opens with.
            opening = candidates[0][1] <= 2 and sentence[candidates[0][2]:candidates[0][2] + 2].lstrip()[:1] == ","
            # And a headline's second verb: "Continue AI aims to add ESG intelligence to sustainability, lands $5.7M"
            # (not "Stable Diffusion creator Stability AI accelerates open-source AI, raises $101M").
            first_end = candidates[0][2]
            second_verb = where == "title" and candidates[0][1] <= 2 and re.match(r"\s+[a-z]", sentence[first_end:]) \
                and not MAKER.match(sentence, first_end)
            if (opening or second_verb) and re.search(r",\s*(?:\w+\s+){0,2}$", clause):
                return self.span(candidates[0], where, offset)
            return self.span(candidates[-1], where, offset)
        # "To get there it just raised $5 million": "it" is the article's company ("the startup" may be the one it
        # bought).
        said = PRONOUN_SUBJECT.search(clause)
        return self.main_span(said.group() if said else "it" if candidates else clause, where, offset)

    def owner(self, sentence: str, at: int, offset: int, where: str) -> Span | None:
        """The name whose possessive comes right before ``at``: "of Snyk’s $850 million total", "participated
        in Plonk’s $30 million series B"."""
        found = re.search(r"['’]s?\s+$", sentence[max(0, at - 4):at])
        if not found:
            return None
        end = at - len(found.group())
        return next((self.span(n, where, offset) for n in self.names_in(sentence, max(0, end - 80), end)
                     if n[2] == end), None)

    def main_span(self, clause: str, where: str, offset: int) -> Span | None:
        """The article's company, where the body (else the title) names it, when ``clause`` is
        "it", "the company", empty or a title's that names it; else None ("Pandemic drove VC funding
        for health care to record $80.6 billion" is about no company)."""
        if not self.main or where == "title" and not self._title_about_main(clause):
            return None
        stripped = clause.strip()
        if where == "title" or MAIN.match(stripped) or not stripped or stripped.lower() in ("today", "now"):
            name = self.bought if self.bought and re.match(r"the\s+startup\b", stripped, re.IGNORECASE) else self.main
            found = self.text.find(name)
            place = "body" if found >= 0 else "title"
            found = found if found >= 0 else max(self.title.find(name), 0)
            return Span(name, name, place, found, found + len(name))
        return None

    def _title_about_main(self, clause: str) -> bool:
        """The title names the main company (misspelt too: "Antrhopic gets $100M") or describes one
        ("Cloud security platform lands $20M", not "AI startup funding hits $17.9B"), not as a label."""
        main = self.main.lower()
        described = re.search(DESCRIBES.pattern + r"(?!\s+(?:funding|investments?|financing|markets?)\b)", clause)
        labelled = re.match(rf"\s*{re.escape(main)}\s*:", self.title.lower())  # "CB Insights: AI funding hit $26B"
        return main in self.title.lower() and not labelled or bool(described) or " " not in main and any(
            OSA.normalized_similarity(word, main) >= 0.75 for word in re.findall(r"[\w.'’-]+", self.title.lower()))

    def recipient(self, sentence: str, start: int, end: int) -> tuple[re.Match | None, Name | None]:
        """Where a company named after the amount at ``start:end`` may start ("a $100 million investment in", "invests
        $1 billion in"), and that company: the name right after "in", or one its description ends with
        ("in one of the most buzzy OpenAI rivals, Anthropic", "in open source ecommerce platform Reaction Commerce")."""
        between = re.compile(r"\s+").match(sentence, end)  # "with $75M Snyk investment": Snyk's round
        first = self.names_in(sentence, between.end(), between.end() + 60) if between else []
        if first and first[0][1] == between.end() and re.match(r"\s+(?:investment|round|funding|financing)\b",
                                                                sentence[first[0][2]:]):
            return between, first[0]
        named_after = ROUND_IN.match(sentence, end) or (
            INVESTS.search(sentence[:start]) and re.compile(r"\s+in(?:to)?\s+").match(sentence, end))
        funding_for = None if named_after else FUNDING_FOR.match(sentence, end)
        first = self.names_in(sentence, funding_for.end(), funding_for.end() + 60) if funding_for else []
        # "Krafcik secured more than $3 billion in funding for Waymo", "funding extension for fintech BlueVine"
        # (not "for its Lego-like game world").
        gap = sentence[funding_for.end():first[0][1]] if funding_for and first else None
        if gap is not None and (re.fullmatch(r"(?:(?!its|their)[a-z][\w-]*\s+){0,2}", gap) or DESCRIPTION.fullmatch(gap)
                                and DESCRIBES.search(gap)):  # "of Canadian generative AI startup Cohere"
            return funding_for, first[0]
        after = self.names_in(sentence, named_after.end(), named_after.end() + 80) if named_after else []
        named = next((n for n in after if n[1] == named_after.end() or sentence[n[1] - 2:n[1]] == ", "), None) or (
            after[0] if after and DESCRIPTION.fullmatch(sentence, named_after.end(), after[0][1]) else None)
        if named and re.match(r"['’]s ", sentence[named[2]:]):  # "in Norway's Spacemaker": Spacemaker's round
            named = next((n for n in after if n[1] == named[2] + 3), named)
        later = next((n for n in after if named and n[1] > named[2]), None)
        gap = sentence[named[2]:later[1]].rstrip() if later else ""
        if re.fullmatch(r"(?:\s+[a-z]+){1,3}", gap) and (noun := list(DESCRIBES.finditer(gap))) \
                and noun[-1].end() == len(gap):
            named = later  # a place before a description: "in New Zealand game studio 2Up Games"
        return named_after, named

    def span(self, name: Name, where: str, offset: int) -> Span:
        """A name found in a sentence at ``offset`` of the title or body, as a field's span."""
        return Span(name[0], name[0], where, offset + name[1], offset + name[2])


def _both_alone(name: str, text: str) -> bool:
    """Whether ``text`` writes each side of "A & B" without the other: two names, not one."""
    left, right = re.split(r" (?:&|and) ", name, maxsplit=1)
    return all(re.search(pattern, text) for pattern in (
        rf"(?<!\w){re.escape(left)}(?!\w)(?! (?:&|and) {re.escape(right)})",
        rf"(?<!{re.escape(left)} & )(?<!{re.escape(left)} and )(?<!\w){re.escape(right)}(?!\w)"))


def _in_closed_aside(sentence: str, name: Name, upto: int) -> bool:
    """In brackets that close before ``upto``: "(Photo: Business Wire) Vericool ... closed $19.1 million"
    (but a name in the same brackets as the amount is its subject: "(Picnic, $110 million)")."""
    return sentence.count("(", 0, name[1]) > sentence.count(")", 0, name[1]) and ")" in sentence[name[2]:upto]


def buys(sentence: str, verb: re.Match[str]) -> bool:
    """A buying word used as a verb: not the noun of "its purchases of X" (read apart) or "more of a
    talent buy", nor the participle of "the recently acquired Five9", nor a deal not done ("would
    acquire", "in talks to buy")."""
    before = sentence[max(0, verb.start() - 50):verb.start()]
    if re.match(r"\s+of\b", sentence[verb.end():]) or DESCRIBING.search(sentence, 0, verb.start()) \
            or HYPOTHETICAL.search(before) and not ANNOUNCED.search(before) or CALLED_OFF.search(before):
        return False
    if re.search(r"\bfor\s+$", before):  # "available for purchase at Amazon", "a marketplace for buying USB sticks"
        return False
    return not (verb.group().lower() in ("buy", "purchase")
                and re.search(r"\b(?:a|an|the|this|its|their)\s+(?:[\w-]+\s+)?$", sentence[:verb.start()], re.I))


def doer_before(sentence: str, before: list[Name], upto: int) -> Name | None:
    """The last name before ``upto``, or the one that an aside right before it describes: "Kustomer,
    a CRM that manages customers, was acquired by", "Insight Partners — an OwnBackup investor — acquiring"."""
    described = next((n for n in reversed(before) if AFTER_ASIDE.fullmatch(sentence, n[2], upto)), None)
    return described or (before[-1] if before else None)


def what_was_bought(sentence: str, verb: re.Match[str], before: list[Name], after: list[Name]) -> Name | None:
    """The company a buying verb takes as its object (or, in "Hyperion, which Oracle bought", the one
    before it), or None when what follows the verb is something else:
    "picks up $3.8M", "buying Facebook shares", "acquired the Aliso Viejo, California-based company",
    or a name past the object's end ("purchasing a fleet of robots ..., noted InVia")."""
    if len(before) > 1 and re.fullmatch(r"(?:\s+[a-z]+){0,2}\s+", sentence[before[-1][2]:verb.start()]):
        # "ProcessGold, which robotic process automation (RPA) leader UiPath later acquired": the name before "which".
        which = next((name for name in reversed(before[:-1]) if re.fullmatch(
            r"\s*[,(]\s*(?:which|that)\s+[^,;]{0,60}", sentence[name[2]:before[-1][1]])), None)
        if which:
            return which
        # "Mobileye, the Tel Aviv company Intel acquired": the name the description is of.
        described = next((name for name in reversed(before[:-1])
                          if THE_COMPANY_OF.fullmatch(sentence, name[2], before[-1][1])), None)
        if described:
            return described
    if not after or after[0][1] - verb.end() >= 60:
        return None
    first, gap = after[0], sentence[verb.end():after[0][1]]
    # A figure, a quotation or a list of things between: "buying 17,000 Oculus Go VR headsets", "pick up
    # objects like cans of soup, a mustard bottle, and a box of Cheez-Its"; or what came from the company
    # ("acquisition of intellectual property rights from machine learning startup Appuri").
    # Nor a name past a clause: "companies Atlassian has bought are still working there, Simons said"; nor the
    # backer or the former employer of a company not named: "acquires startup founded by ex-Instagram talent".
    if NOT_A_TARGET.search(gap) or re.search(r"[$€£“”\"\d]|,\s+(?:and\s+)?[a-z]|\b(?:from|are|is|was|were|said)\b"
                                             r"|\b(?:founded|backed|led|run|started|created|built)\s+by\b"
                                             # a place, and a quoted word: "two complexes in Philadelphia",
                                             # "acquires 'modern' CASB"
                                             r"|(?<!interest\s)\b(?:in|at|on|near|across|throughout)\s+$"
                                             r"|['‘][\w-]+['’]\s", gap):  # (but "a majority interest in M&D")
        return None
    # "AI-powered semantic code analysis platform Deepcode": a capitalised description, then the company.
    if re.search(r"-(?:powered|based|driven|focused|enabled|backed|native)$", first[0]):
        lowered = len(after) > 1 and re.fullmatch(r"(?:\s+[a-z-]+){0,5}\s+", sentence[first[2]:after[1][1]])
        return after[1] if lowered else None
    # "Snoqualmie, Washington-based Orions Systems", "Age of Wonders dev Triumph Studios", "(FPGA)
    # manufacturer Altera": where it is or what it makes, then the company.
    if len(after) > 1 and (MAKER.fullmatch(sentence, first[2], after[1][1])
                           or PLACE_BASED.fullmatch(sentence, first[2], after[1][1])):
        return after[1]
    if len(after) > 1 and re.fullmatch(r"['’]s\s+", sentence[first[2]:after[1][1]]) and not re.match(
            r"[\w\s-]{0,30}?\b(?:unit|division|arm|business|team|assets)\b", sentence[after[1][2]:]):
        return after[1]  # "bought France's Alcatel-Lucent": the place's company (not "Lyft's Level 5 unit")
    # "acquire the Wi-Fi mesh network company": a description of a company it does not name; "Lyft’s Level 5
    # self-driving unit": a part of the company, not the company.
    described = MAKER.match(sentence, first[2]) or PLACE_BASED.match(sentence, first[2])
    part = re.match(r"['’]s\s+[\w\s-]{0,30}?\b(?:unit|division|arm|business|team|assets|operations)\b",
                    sentence[first[2]:])
    return None if described or part or SHARES.match(sentence, first[2]) else first


def unbracketed(sentence: str) -> str:
    """The sentence with acronyms in brackets blanked out (offsets kept), so that they neither end a
    list's clause ("led by European venture capital (VC) juggernaut Atomico") nor stand for the
    name they abbreviate ("Ally Bridge Group (ABG)")."""
    return re.sub(r"\(\w{1,8}\)", lambda m: " " * len(m.group()), sentence)
