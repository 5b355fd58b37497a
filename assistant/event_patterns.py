"""The patterns ``events`` reads sentences with: verbs and nouns of funding, acquiring,
listing and laying off; round names; the clauses that name lead investors and participants;
and the words that make a capitalised name a place, an adjective or a modifier instead.
"""

from __future__ import annotations

import re

ROUND_NAME = re.compile(
    r"\b(?:(?:pre-seed|seed(?:\s+extension)?|series[\s-][a-z](?:[-\s]?\d\b|\+)?(?:\s+extension)?)(?=[\s,.;:?!)]|$)"
    r"|(?:angel|bridge|mezzanine|growth(?:[\s-]stage)?|growth equity)(?=\s+(?:round|funding|financing)))",
    re.IGNORECASE)
FUNDING_VERB = re.compile(
    r"\b(?:rais(?:e|es|ed|ing)|secur(?:e|es|ed|ing)|clos(?:es|ed|ing|e(?!\s+to\b))|land(?:s|ed|ing)?|nab(?:s|bed|bing)?|"
    r"bag(?:s|ged)?|snag(?:s|ged)?|grab(?:s|bed)?|net(?:s|ted)?|score(?:s|d)?|pull(?:s|ed)? in|rak(?:e|es|ed) in|"
    r"pick(?:s|ed)? up|receiv(?:e|es|ed)|got|gets|attract(?:s|ed)?|brings? in|brought in|announc(?:e|es|ed|ing))\b",
    re.IGNORECASE)
FUNDING_NOUN = re.compile(r"\b(?:round|funding|financing|investment|venture capital|"
                           r"(?:capital|cash) (?:injection|infusion)|seed|series [a-z])\b", re.IGNORECASE)
TOTAL_CUE = re.compile(r"\b(?:total(?:ing|ling)?|to date|so far|thus far|in all|altogether|cumulative|collectively|"
                       r"brings?|bringing|overall)\b[^.]{0,40}$", re.IGNORECASE)
NOT_A_ROUND = re.compile(r"\b(?:revenue|sales\b|auctions?\b|valu(?:ed|ation)|market cap|fund(?:\s+[IVX]+)?\b(?! ?ing)|"
                          r"acqui|bought|buy|purchas|loss|spent|spend|cost|salary|bonus|prize|grant|pa(?:y|id|ying|ys)\b)",
                         re.IGNORECASE)
# "$1 billion ARR", "$95.7 million in gross sales", "a $3.4 million cash bonus", "a $100 million venture fund".
NOT_A_ROUND_AFTER = re.compile(r"\s*(?:in\s+)?(?:(?:gross|net|annual|recurring)\s+)?(?:revenue|sales|arr\b|annual|"
                               r"(?:investment\s+|venture\s+|vc\s+)?fund\b|investment\s+program|run[- ]rate|"
                               r"(?:revolving\s+)?credit\s+(?:facility|line)|line\s+of\s+credit|"  # a loan
                               r"(?:cash\s+)?bonus)"
                               r"|\s*(?:in\s+(?:\w+\s+)?(?:years|months|quarters)|(?:a|per)\s+(?:year|month|quarter)|annually)\b"
                               r"|\s*(?:in\s+)?(?:net\s+)?(?:income|profits?|earnings)\b|\s+(?:of|in)\s+assets\b"
                               r"|\s+by\s+(?:the\s+end\s+of\s+)?(?:19|20)\d\d\b"  # "to reach $91 billion by 2025"
                               # "10 billion yuan ($1.52 billion) autonomous driving fund", not "to fund" or "Zeev Fund"
                               r"|\)?(?:\s*\([^)]*\))?\s+['‘\"“]?(?-i:(?:(?!to\s)[a-z][\w-]*\s+){0,3}fund)\b"
                               # a headline's "$335 Million Hybrid Fund", not "$5M To Fund Robots"
                               r"|\s+(?-i:(?:(?!To\s)[A-Z][\w-]*\s+){0,3}Funds?)\b"
                               # what many companies raised: "across 588 deals", "raised by AI startups worldwide"
                               r"|[^.]{0,40}?\b(?:across|over|in|into|among)\s+(?:more than\s+|about\s+|nearly\s+)?"
                               r"\d[\d,]*\s+(?:deals|companies|startups|businesses|rounds|firms)\b"
                               r"|\s+raised\s+by\s+(?:[\w-]+\s+){0,3}?(?:startups|companies|firms|businesses)\b"
                               r"|\s+(?:in|of)\s+(?:global|worldwide|industry-wide)\b"  # "$70 billion in global ..."
                               r"|\s+(?:during|for|in)\s+(?:the\s+)?(?:\w+\s+){0,2}?(?:quarter|fiscal)\b"  # takings
                               r"|\s+for\s+(?:his|her|its|their|a|the)\s+(?:[\w-]+\s+){0,3}?fund\b",
                               re.IGNORECASE)  # and "raised $100 billion for his Vision Fund"
# What many companies raised, said before the amount: "170+ companies, $4 billion in funding".
MANY_BEFORE = re.compile(r"\b\d[\d,]*\+?\s+(?:[\w-]+\s+)?(?:companies|startups|deals|firms|businesses|IPOs)\b"
                         r"[^.$]{0,15}$",
                         re.IGNORECASE)
# A person named by their role at the company named before: "ZappRx founder and chief executive Zoe Barry".
_ROLE = r"(?:co-?founder|founder|CEO|chief executive(?: officer)?|president|chair(?:man|woman)?|CTO)"
ROLE_BEFORE = re.compile(rf"\b{_ROLE}(?:\s*(?:,|and)\s+{_ROLE})*\s+$", re.IGNORECASE)
# A comma or "while" before a new subject: where a second company's round may start (``event_reader._clauses``).
NEXT_RAISER = re.compile(r",\s+(?:and\s+|while\s+|whereas\s+|but\s+)?(?=[A-Z])|\s+(?:while|whereas)\s+(?=[A-Z])")
# "With another $26 million in the bank from its lead investors": new money in the bank, from investors, is a round.
NEW_MONEY = re.compile(r"\b(?:another|fresh|new)\s+$", re.IGNORECASE)
NEW_MONEY_FROM = re.compile(r"\s+in the bank\b[^.]{0,40}?\b(?:from|invest\w*|backers?|led)\b", re.IGNORECASE)
# Money spent, not raised, a little further back: "had paid security researchers more than $21 million".
SPENT = re.compile(r"\b(?:paid|paying|spent|spending|lost|losing|loss|losses|facilitat\w*|lent|originat\w*)\b",
                   re.IGNORECASE)  # (and money a platform moved: "has facilitated $1 billion in working capital")
VALUATION = re.compile(r"\b(?:valu(?:e|ed|es|ing)\s+(?:[\w.'’-]+\s+){0,3}?at|valuation\s+(?:of|at)|"
                        r"(?P<kind>pre|post)[- ]money valuation|valuation)\b", re.IGNORECASE)
ACQUIRE = re.compile(
    r"\b(?:acquir(?:e|es|ed|ing)|buy(?:s|ing)?|bought|purchas(?:e|es|ed|ing)|snap(?:s|ped|ping)? up|"
    r"pick(?:s|ed|ing)? up|scoop(?:s|ed|ing)? up|snatch(?:es|ed|ing)? up|gobbl(?:e|es|ed|ing) up|absorb(?:s|ed)?|"
    r"tak(?:e|es|ing) over|took over|merg(?:e|es|ed|ing) with)\b", re.IGNORECASE)
# The price of a deal named in an earlier sentence: "that deal is valued at about $70 billion".
DEAL_PRICE = re.compile(r"\b(?:the|that|this)\s+(?:deal|acquisition|purchase|transaction|takeover|buyout)\b"
                        r"[^.;]{0,30}?\b(?:valued at|worth|priced at|for)\s+(?:about|around|roughly|nearly|some|"
                        r"more than|over|an estimated)?\s*$", re.IGNORECASE)
# A time may come between: "companies acquired last year by GE Digital and Cisco, respectively".
ACQUIRED_BY = re.compile(r"\b(?:acquired|bought|purchased|(?:snapped|picked|scooped|snatched|gobbled) up|taken over)"
                         r"(?:\s+(?:in|last|this|earlier|later|year|month|week|\d{4}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                         r"[a-z]*),?){0,3}?\s+by\b", re.IGNORECASE)
# "its acquisition of X", "Intel's purchase of X", "Intel confirms $16.7B acquisition of X": the owner
# bought X (at the price between).
ACQUISITION_OF = re.compile(r"(?:\b(?P<its>its|their)|['’]s?|\s?‘s|\s+(?P<done>confirm|complet|announc|clos|finaliz)\w*"
                            r"(?!\s+(?:its|their)\b))\s+(?:[\w$€£.,-]+\s+){0,3}?(?:acquisitions?|purchases?|buyouts?|takeovers?)"
                            r"\s+of\s+", re.IGNORECASE)
# "Honeywell’s SCADAfence acquisition", "Salesforce's $392M RelateIQ acquisition".
DEAL_NOUN = re.compile(r"\s+(?:acquisition|purchase|buyout|takeover)\b", re.IGNORECASE)
POSSESSIVE_PRICE = re.compile(r"['’]s?\s+(?:[$€£][\d.,]+\s*(?:[mb]illion|[MB]|bn)?\s+)?")
# "Okta completes $6.5B Auth0 acquisition", "its $6.5 billion Auth0 acquisition", "bolsters its analytics with
# $155 million Scalyr acquisition": the name before is the owner.
OWN_DEAL = re.compile(r"\b(?:its|their|(?:complet|announc|clos|finaliz|confirm)\w*)\s+"
                      r"(?:[$€£][\d.,]+\s*(?:[mb]illion|[MB]|bn)?\s+)?$"
                      r"|\bwith\s+(?:an?\s+|the\s+)?[$€£][\d.,]+\s*(?:[mb]illion|[MB]|bn)?\s+$", re.IGNORECASE)
# How many deals a buyer has made, as an article states it: "Vectrix is the eighth acquisition for Cloudflare",
# "the total number of acquisitions made by Datadog stands at ten" (not "its fifth acquisition of the year").
ORDINALS = {w: n for n, w in enumerate("second third fourth fifth sixth seventh eighth ninth tenth eleventh "
                                          "twelfth".split(), 2)}
COUNTS = {w: n for n, w in enumerate("two three four five six seven eight nine ten eleven twelve".split(), 2)}
NTH_DEAL = re.compile(rf"\b(?P<n>{'|'.join(ORDINALS)}|\d+(?:st|nd|rd|th))\s+(?:[\w-]+\s+){{0,2}}?"
                      r"(?:acquisition|purchase)\b", re.IGNORECASE)
DEAL_COUNT = re.compile(rf"\bacquisitions\b[^.;]{{0,60}}?\bstands?\s+at\s+(?P<n>{'|'.join(COUNTS)}|\d+)\b",
                        re.IGNORECASE)
PART_OF_A_PERIOD = re.compile(r"[^.;]{0,25}?\b(?:months?|weeks?|days?|this\s+year|of\s+the\s+year|recent)\b",
                              re.IGNORECASE)
# More targets of one buying verb, each at its price: "bought 3PAR for $2.35 billion as well as ArcSight for
# $1.5 billion".
MORE_TARGETS = re.compile(r",\s*(?:and\s+)?|\s+(?:and|as well as|plus)\s+")
AT_PRICE = re.compile(r"\s+for\s+(?:about\s+|around\s+|roughly\s+|nearly\s+)?")
# "sold his company Stata Labs to Yahoo": what was sold, then its buyer after "to".
SOLD_TO = re.compile(r"\bsold\s+(?P<what>[^.;,]{1,60}?)\s+to\s+", re.IGNORECASE)
# Words between a buying verb and a name that make the name something other than a company bought:
# "picked up its first customer, LexisNexis", "bought a stake in X", "took over as CEO of X", and
# words that end the verb's object before the name: "buying itself a direct artery into Europe",
# "purchasing habits and target them with online ads via WeChat", "purchase their Axie characters".
NOT_A_TARGET = re.compile(r"\b(?:customers?|clients?|partners?|awards?|prizes?|funding|investments?|stakes?|"
                          r"users?|employees?|talent|momentum|steam|shares?|licen[cs]es?|"
                          r"reins|helm|role|position|ceo|chief|president|chair\w*|"
                          r"to|into|via|with|through|them|itself|themselves|their|your|our)\b", re.IGNORECASE)
# After a name bought, words that make it a share of the company or a place: "buying Facebook shares",
# "acquired the Aliso Viejo, California-based company" (with more words, up to the company's name).
# What a company owns, not the company: "Facebook shares", "IBM's patents".
SHARES = re.compile(r"\s+(?:(?:governance\s+)?tokens?|shares|stock|stake|licen[cs]es?|rights|patents|assets)\b"
                    r"|['’]s\s+(?-i:[a-z])")
PLACE_BASED = re.compile(r"(?:,\s*[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)?-based\b(?:\s+[\w-]+){0,3}?\s+")
# Between a company bought and its buyer: "Mobileye, the Tel Aviv company Intel acquired", "Post Intelligence, a
# startup Uber acquired".
THE_COMPANY_OF = re.compile(r"\s*,\s*(?:the|an?)\s+(?:[\w'’-]+\s+){0,4}?"
                            r"(?:company|startup|firm|business|maker|developer)\s+")
# Between a product and its maker: "acquires Age of Wonders dev Triumph Studios".
MAKER = re.compile(r"(?:\)|\s*\([^)]*\))?\s+(?:[\w-]+\s+){0,2}?(?:makers?|developers?|devs?|manufacturers?|providers?|"
                   r"creators?|company|firm|startup|studios?|publishers?|owners?|operators?|vendors?|parent|platform),?"
                   r"(?:\s+|\b)")
# A deal not done: "would acquire", "is in talks to buy", "doesn't want you to buy", "maybe they'll buy"; not
# one announced: "said it would buy Broadcom".
HYPOTHETICAL = re.compile(r"\b(?:would|could|might|may|maybe|perhaps|"
                          r"wants?\s+(?:\w+\s+)?to|wanted\s+to|in talks to|looking\s+(?:into|to)|consider(?:s|ed|ing)?|"
                          r"rumou?red\s+to|not|n't|never|\w+['’]ll)\s+(?:\w+\s+)?$", re.IGNORECASE)
# A deal that did not happen: "Nvidia canceled its $80 billion acquisition of Arm".
CALLED_OFF = re.compile(r"\b(?:cancel+(?:s|ed|ing)?|abandon(?:s|ed|ing)?|scrap(?:s|ped|ping)?|terminat(?:e|es|ed|ing)|"
                        r"call(?:s|ed|ing)?\s+off|block(?:s|ed|ing)?|walk(?:s|ed|ing)?\s+away\s+from|"
                        r"fail(?:s|ed|ing)?\s+to)\b[^.;]{0,40}$", re.IGNORECASE)
ANNOUNCED = re.compile(r"\b(?:said|says|announced|agreed|confirmed)\b[^.;]{0,30}\bwould\s+(?:\w+\s+)?$", re.IGNORECASE)
# Words that describe the name they come before: "open source ecommerce platform (Reaction Commerce)",
# not "a round led by (True Ventures)" or "December 2018 led by".
DESCRIPTION = re.compile(r"(?:(?!(?:a|an|the|led|by|from|with|and|at|on|in|of|as|for|round)\b)[A-Za-z][\w-]*\s+){1,5}")
# An amount not (yet) raised: "at least $30 million of a possible $35 million", "plans to raise $100 million".
PLANNED = re.compile(r"\b(?:possible|planned|proposed|targeted|expected|potential|hoped-for|pledg(?:e|es|ed|ing)\s+an?|"
                     r"(?:(?:plans?|planning|seeks?|seeking|hopes?|hoping|aims?|aiming|looking|wants?|intends?|"
                     r"expects?|expected)\s+to\s+(?:\w+ly\s+)?"
                     r"(?:raise|secure|(?:bring|rake|pull|take) in|invest|earn|generate)|"
                     r"(?:would|could|might|may)\s+(?:raise|receive|get)|seek(?:s|ing)?)"
                     r"(?:\s+(?:up to|about|around|as much as|more than|between))?)\s+$",
                     re.IGNORECASE)
# A participle that describes rather than acts: "Xant, the recently acquired Five9".
DESCRIBING = re.compile(r"\b(?:the|a|an|this|these|those|its|their|his|her|our|newly)\s+(?:\w+ly\s+)?$",
                        re.IGNORECASE)
IPO_WORDS = re.compile(r"(?<!pre-)\b(?:IPO|initial public offering|went public|go(?:es|ing)? public|direct listing|"
                       r"SPAC|special purpose acquisition|public listing|listed on the)\b", re.IGNORECASE)
# A layoff and its size as written: "laid off 150 employees", "cut 20% of its workforce", "laying off hundreds of
# staff", "lay off a third of its workforce", "parted ways with its entire staff".
LAYOFF_WORDS = re.compile(
    r"\b(?:lay(?:s|ing)? off|laid off|cut(?:s|ting)?|eliminat(?:e|es|ed|ing)|shed(?:s|ding)?|slash(?:es|ed|ing)?|"
    r"reduc(?:e|es|ed|ing)|part(?:s|ed|ing)? ways with)\s+(?P<size>(?:about\s+|roughly\s+|nearly\s+|some\s+|"
    r"around\s+|more than\s+|almost\s+|approximately\s+|up to\s+|all\s+)?(?:(?P<count>\d[\d,]*)|"
    r"(?P<share>\d+(?:\.\d+)?)\s*(?:%|percent)|(?:hundreds|thousands|dozens)\s+of|(?P<part>half|an?\s+(?:third|quarter|"
    r"fifth|tenth)|one[-\s](?:third|quarter|fifth|tenth)|two[-\s]thirds|(?:its|the|their)\s+entire))\s+"
    r"(?:of\s+(?:its|the|their)\s+)?(?:\w+\s+)?(?:employees|staff|jobs|workers|people|positions|workforce|roles|"
    r"headcount))", re.IGNORECASE)
_PARTS = {"half": 0.5, "third": 1 / 3, "quarter": 0.25, "fifth": 0.2, "tenth": 0.1, "thirds": 2 / 3, "entire": 1.0}


def layoff_share(part: str) -> float:
    """The share a fraction in words says: "a third" -> 1/3, "two-thirds" -> 2/3, "its entire" -> 1."""
    return _PARTS[re.split(r"[-\s]", part.lower())[-1]]
# Also "lead investor G Squared", "its lead investors, Zeev Ventures and HPE", and the misspelt "lead by".
LEAD = re.compile(r"\b(?:led by|co-led by|lead by|headed by|spearheaded by|"
                  r"lead (?:investors?|backers?),?(?:\s+(?:is|was|were|are))?(?=\s+(?-i:[A-Z])))\s+", re.IGNORECASE)
PARTICIPANTS = re.compile(
    r"\b(?:with participation from|participation from|participants? includ(?:e|ed|ing)|investors? includ(?:e|ed|ing)|"
    r"participants in the (?:round|financing) (?:are|were)|joined by|along with|alongside|including|included|from)\s+",
    re.IGNORECASE)
# A sentence that only names backers, of the round the sentence before told of: "Investors include Allen & Co., ...".
INVESTORS_INCLUDE = re.compile(r"\s*(?:(?:its|other|existing)\s+)?(?:investors|backers)\s+(?:include|included)\b",
                               re.IGNORECASE)
# A sentence about who took part in a round: "The round also included investments from Google, ...".
BACKERS = re.compile(r"\b(?:round|financing|funding)\b.*\b(?:included|includes|participants?|participation)\b",
                     re.IGNORECASE)
PARTICIPATED = re.compile(r"\b(?:also\s+)?(?:participated|invested|joined(?: the round)?|contributed|chipped in)\b",
                           re.IGNORECASE)
LED_THE_ROUND = re.compile(r"\b(?:led|co-led|leads|co-leads|headed|leading|heading)\s+"
                           r"(?:the|its|their|this|an?|[\w.&-]+['’]s?|[$€£][\d.,]+)\s+"
                           r"(?:[\w$.,'’-]+\s+){0,5}"
                           r"(?:round|investment|financing|funding|series [a-z]|seed)\b", re.IGNORECASE)
# (A full stop ends it, not the dot of "A.Capital", "U.K." or an initial: "T. Rowe Price".)
CLAUSE_END = re.compile(r"(?<!\.[A-Z])(?<!\s[A-Z])(?<!\bCo)(?<!\bInc)(?<!\bCorp)(?<!\bLtd)\.(?!\w)|[;:()]"
                        r"|,\s*(?:with|and|which|who|while|bringing|taking|as|to|according|the company|a |an )"
                        r"|\s(?:to|for|in order to|which|who|as|with|including)\s|—|–"
                        r"|\sand\s+(?:also\s+)?(?:included|includes|including|existing|previous|other|new|saw|was|brings|will)\b")
FUTURE = re.compile(r"\b(?:another|next|talks|target(?:s|ing)?|seek(?:s|ing)?|plans?|hop(?:e|es|ing)|"
                     r"could|would|might|may)\b", re.IGNORECASE)
# An initial joins the name it opens ("T. Rowe Price", "J.P. Morgan"); "the U.S. It raised" is two runs.
INITIAL = r"(?!U\.[SK]\.)[A-Z]\.(?:[A-Z]\.)?(?=\s+[A-Z][a-z])(?!\s+(?:It|The|This|That|In|On|An?|We|He|She|They)\b)"
# A plural possessive inside an institution's name: "Ontario Teachers’ Pension Plan Board".
COLLECTIVE = r"(?:Teachers|Workers|Employees|Veterans|Farmers|Citizens|Members)['’](?=\s+[A-Z])"
CAPITALISED_RUN = re.compile(rf"(?<![\w.])(?:{INITIAL}|[A-Z](?:[\w.&'’-]|:(?=[A-Z]))*[\w]|[A-Z])"
                             rf"(?:\s+(?:{COLLECTIVE}|{INITIAL}|[A-Z](?:[\w.&'’-]|:(?=[A-Z]))*[\w]|&|of))*(?!\w)")
NOT_NAME_WORDS = {"the", "a", "an", "it", "its", "this", "that", "in", "on", "at", "for", "and", "but", "with",
                   "today", "now", "also", "ceo", "cto", "he", "she", "they", "we", "our", "their", "series", "seed",
                   "round", "funding", "inc", "ltd", "llc", "i", "as", "by", "from", "to", "of", "after", "while",
                   "among", "amid", "despite", "during", "across", "between", "although", "though", "because", "read",
                   "can", "will", "would", "could", "should", "does", "did", "is", "are", "was", "were",
                   "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}  # "Two times $700M"
DESCRIBES = re.compile(r"[-\s]+(?:company|startup|firm|maker|provider|service|developer|platform|specialist|player|"
                        r"outfit|unit|business|software|app|vendor|operator|lab|chipmaker|giant|rival|subsidiary|studio)s?\b")
PLACE = re.compile(r",\s*(?:Calif|Mass|N\.Y|NY|Wash|Texas|Ill|Colo|Ga|Fla|Va|Md|Pa|Ore|Utah|Ariz|Mich|Minn|N\.C|"
                    r"Iowa|Ohio|Ind|Wis|Mo|Tenn|Ky|Ala|Okla|Kan|Neb|Nev|Idaho|Conn|N\.J|NJ|Del|R\.I|Vt|N\.H|Maine|"
                    r"England|China|Israel|India|Germany|France|Canada|Japan|U\.K|UK|U\.S)\b")
# A name in capitals runs on into prose ("led by JAM FINTOP with ..."); a dateline's place does not
# ("SAN FRANCISCO, Calif.", "NEW YORK–(BUSINESS WIRE)"), nor do the words of a sentence in capitals.
INTO_PROSE = re.compile(r"\s*,?\s+[a-z]")
ADJECTIVE_PREFIX = re.compile(r"^[\w.&' -]*-(?:based|backed|led|owned|funded|headquartered|born|provider|maker)\s+")
AFTER_PREPOSITION = re.compile(r"\b(?:in|at|of|to|according to|based in|from|by|with|for|on|told|said|near|"
                                r"like|than|versus|vs\.?)\s+(?:the\s+)?$", re.IGNORECASE)
MAIN = re.compile(r"^(?:the|this|that)\s+(?:company|startup|firm|business)\b|^(?:it|they)\b", re.IGNORECASE)
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
IN_MONTH = re.compile(rf"\b(?:in|on|since|during|last)\s+(?:early\s+|late\s+|mid-)?({'|'.join(MONTHS)})"
                       rf"(?:\s+(\d{{1,2}}))?(?:,?\s+((?:19|20)\d\d))?\b", re.IGNORECASE)
IN_YEAR = re.compile(r"\b[Ii]n\s+(?:early\s+|late\s+|mid-)?((?:19|20)\d\d)\b")
NOISE = {"the company", "the startup", "ceo", "inc", "the round", "investors", "existing investors", "others",
          "other investors", "new investors", "a group", "several", "various", "undisclosed"}
ADJECTIVE_SUFFIX = re.compile(r"-(?:based|backed|led|owned|funded|headquartered|born|focused|powered)\b")
# Between a name and its verb, an aside describing it: ", a CRM that manages customers, was", ", which has 100
# employees, acquired", " — an Acme investor — ".
AFTER_ASIDE = re.compile(r"\s*(?:,\s+(?:a|an|which|who)\s+[^,;]*,|\s+[—–]\s+(?:a|an)\s+[^—–;]*[—–])\s*(?:\w+\s+){0,2}")
# Also set off by dashes: "Findem — whose customers include Google and RingCentral — raised".
APPOSITION = re.compile(r"\s?,\s+(?:a|an|the|which|who|whose|one of|backed|founded|known|(?:developer|maker|provider|"
                        r"creator|operator|owner) of|(?:leader|pioneer) in)\b[^,]*,"
                        r"|\s+[—–]\s+(?:a|an|the|which|who|whose|one of|backed|founded|known)\b[^—–]*[—–]")
# Capitalised words that are never the company of an event: technologies, titles, demonyms.
GENERIC = frozenset("""ai ml llm llms api apis u.s u.k saas paas iot ar vr xr nft nfts b2b b2c hq ceo cto cfo coo
us u.s. uk eu
gpu gpus cpu chatgpt gpt genai kubernetes cloud crypto web3 blockchain fintech edtech healthtech insurtech proptech
series seed covid covid-19 photo american chinese european israeli british german french indian japanese korean
canadian australian spanish italian swiss dutch swedish singaporean african asian latin nordic irish brazilian
mexican russian silicon valley wall street q1 q2 q3 q4 h1 h2 ipo ipos spac spacs pipe pipes vc vcs january february
march april may june july august september october november december monday tuesday wednesday thursday friday saturday
sunday where when what which who why how this these those there here europe asia africa 2d 3d 4k 4g 5g ip
""".split()) | {"silicon valley", "wall street", "united states", "north america", "south america", "latin america",
                "middle east"}
# An amount that is a deal's price, not a round: "its $19.7 billion acquisition of Nuance".
DEAL_AFTER = re.compile(r"\s*(?:[\w-]+\s+){0,2}?(?:acquisition|deal|merger|buyout|purchase|takeover|sale)\b",
                        re.IGNORECASE)
# A plural for many companies as the subject: "health care startups raised $80.6 billion".
GENERIC_SUBJECT = re.compile(r"\b(?:startups|companies|firms|businesses|IPOs)\s+(?:[a-z]+\s+){0,3}$")
# The sentence's opening name is what "it" stands for: "Bigwords.com also says it's raised $300,000".
SAYS_IT = re.compile(r"\s+(?:also\s+)?(?:says|said|announced|reported)\s+(?:that\s+)?(?:it|they)\b")
DESCRIBED_SAYS_IT = re.compile(r"\s*,\s+(?:a|an|the)\s+[^,;]*," + SAYS_IT.pattern)
# What the name before was bought by: "Ketchapp, which it acquired".
WHICH_IT = re.compile(r"\s*,\s*which\s+(?:it|they)\s+(?:\w+\s+)?", re.IGNORECASE)
# The article's company as the doer, close before the verb: "the company announced it has acquired".
IT_DID = re.compile(r"\b(?:it|they|the (?:company|startup|firm))\s+(?:\w+\s+){0,3}$", re.IGNORECASE)
# A pronoun standing for the company between the last name and the verb: "..., today announced that it raised".
# "it raised", "the company, which raised": the article's company is the subject.
PRONOUN_SUBJECT = re.compile(r"\b(?:it|they|the (?:company|startup|firm))\b(?:,\s*(?:which|who)\b)?[^,]*$",
                             re.IGNORECASE)
# A later clause about another round of the company: "raised $50 million in its series A round three years
# ago, and its latest cash injection was spearheaded by Bond".
OTHER_ROUND_CLAUSE = re.compile(
    r",?\s+(?:and|but|while|whereas)\s+(?:for\s+)?(?:its|the|this)\s+(?:(?:latest|new|newest|current|most recent|"
    r"(?P<name>series[\s-][a-z]\d?|seed))\s+)+(?:round|cash injection|cash infusion|funding|financing|investment|"
    r"raise)\b", re.IGNORECASE)
# Before an amount, a round said to be earlier: "fresh off a $60 million round", "its previous $1.2 billion".
EARLIER_ROUND = re.compile(r"\b(?:previous|prior|earlier|fresh off|following|on the heels of|after)\s+(?:a|an|its|the|"
                           r"their)?\s*$", re.IGNORECASE)
# One round of a total said before it: "had previously raised $50 million, including a $26 million round two
# years ago", "... including a $100 million round last year and a further $263 million tranche".
INCLUDING_ROUND = re.compile(r"\bincluding\s+an?\s*$", re.IGNORECASE)
ROUND_AFTER = re.compile(r"\s+(?:[\w-]+\s+){0,2}?(?:round|tranche)\b", re.IGNORECASE)
# An amount named as a round right after it: "following a $20 million series A in May 2018".
NAMED_AMOUNT = re.compile(r"\s+(?:(?:pre-)?seed|series[\s-][a-z])\b(?!-)", re.IGNORECASE)
# A name owning a backer, not one: "rival Snowflake's top client", "Google's GV" (but "Intel's investment").
OWNER_OF = re.compile(r"['’]s\s+(?!(?:investment|money|cash|funding|backing|stake|capital)\b)[a-z]")
OWNS = re.compile(r"['’]s\s+")  # between a name and what it owns: "Unravel's $35 million"
# Or right after "funding for": "more than $3 billion in funding for Waymo".
FUNDING_FOR = re.compile(r"\s*(?:in\s+)?(?:\w+\s+){0,2}?(?:funding|financing|investment)(?:\s+(?:round|extension))?\s+"
                         r"(?:for|of)\s+"  # ("the $270 million funding of Canadian AI startup Cohere")
                         # "Don Burnette recently secured $40 million for their startup, Kodiak Robotics"
                         r"|\s+for\s+(?:(?:the|their|his|her|its)\s+)?(?:new\s+)?(?:startup|company)(?:,\s*|\s+)",
                         re.IGNORECASE)
# The company a round went to, named after it: "a $100 million investment in Andela".
# What a subject puts money into, when no company follows: "$3 billion investment in AI" (not "in a round",
# "in August 2022" or "in series A").
STAKE_IN = re.compile(r"\s*(?:\w+\s+){0,2}?(?:investment|stake)\s+in(?:to)?\s+(?!(?:a|an|the|its|their|this|his|her|"
                      r"series|seed|pre|early|late|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*|\d)\b)",
                      re.IGNORECASE)
ROUND_IN = re.compile(r"\s*(?:\w+\s+){0,3}?(?:round|investment|funding|financing|stake)\s+(?:in|into)\s+",
                      re.IGNORECASE)
# Funding stated in the past perfect is a running total: "had previously raised $6 million", or
# "has raised $33 million" when no round, lead or backer follows (then it is the round itself); "has already
# raised" is from before too.
CUMULATIVE = re.compile(r"\b(?:had\s+(?:previously\s+|already\s+|earlier\s+)?|(?:has|have)\s+(?:previously|already)\s+)"
                        r"(?:raised|secured|received)\b[^,.]{0,30}$", re.IGNORECASE)
HAS_RAISED = re.compile(r"\b(?:has|have)\s+(?:now\s+|so far\s+|already\s+|previously\s+)?raised\s+"
                        r"(?:a total of\s+|around\s+|about\s+|nearly\s+|more than\s+|over\s+|at least\s+|roughly\s+|"
                        r"close to\s+|north of\s+|upwards of\s+|almost\s+)?$", re.IGNORECASE)
# What a company has raised in all: "bringing its total funding to", "a total of"; and before the
# round the article reports: "had previously raised", "had raised ... prior to the new funding".
TOTAL_OF = re.compile(r"\b(?P<whose>its|their|the\s+(?:[\w.,-]+\s+){0,4}?(?:company|startup|firm)['’]s\s+)?\s*"
                      r"total\s+(?!round|series|seed|value|deal)"
                      r"(?:[\w-]+\s+){0,5}?(?:to|of|at|past)\s+(?:the\s+)?(?:about\s+|around\s+|more than\s+|"
                      r"(?:well\s+|just\s+)?(?:over|above)\s+|nearly\s+|roughly\s+|some\s+|almost\s+)?$", re.IGNORECASE)
# "Snyk's $850 million total raised since its inception": the total named after the amount.
TOTAL_AFTER = re.compile(r"\s+(?:in\s+)?total\s+(?:raised|funding|capital|financing)\b", re.IGNORECASE)
# Or raised and nothing more, of no round: "one of the most capitalized AI companies with over $1 billion raised".
RAISED_ALONE = re.compile(r"\s+raised\s*(?:\.|$|to date|so far|since)", re.IGNORECASE)
# A round named with its amount ("$135 million in series E funding"), not one a later clause names
# ("$210 million, including its $64 million series D").
NAMED_ROUND = re.compile(r"[^,;]{0,25}?\b(?:series\s+[a-z]\b|(?:pre-)?seed\b)", re.IGNORECASE)
TO_DATE = re.compile(r"(?P<lead>[^.]{0,25}?)\b(?:in total|to date|so far|thus far|in all|altogether|"
                     r"(?:across|over|in)\s+(?:\w+\s+){1,2}rounds)\b", re.IGNORECASE)  # "across six rounds"
# Reported speech is the news, not what came before: "announced that it had raised $50 million".
REPORTED_HAD = re.compile(r"\b(?:announc|said|says|reveal|report|confirm)\w*\s+(?:that\s+)?\S+\s+had\b",
                          re.IGNORECASE)
FUNDING_WORD = re.compile(r"\b(?:rais|fund|capital|financ|equity)", re.IGNORECASE)
PRIOR = re.compile(r"\b(?:prior to|before)\s+(?:the|this|its)\s+(?:new|latest|current|most recent)?\s*"
                   r"(?:round|funding|financing|investment|raise)\b", re.IGNORECASE)
ROUND_FOLLOWS = re.compile(r"\s*(?:in\s+(?:a|an|its|the|new|fresh)\b|in\s+(?:series|seed)|from\s|led by|of\s+(?:series|"
                           r"seed|new|fresh))", re.IGNORECASE)
# A headline whose subject is the investor: "GV leads $20 million investment in Mabl", "Google
# invests $300 million in Anthropic". The company the article is about follows "in".
INVESTOR_HEADLINE = re.compile(r"\b(?:invest(?:s|ed)?|leads?|backs?|pours?|puts?)\s+(?:(?:[^\s.]|\.(?=\S))+\s+){0,5}?"
                               r"(?:in|into)\s+", re.IGNORECASE)
# The investor is the subject: "Microsoft invests $1 billion in OpenAI" (the company follows "in").
INVESTS = re.compile(r"\b(?:invest(?:s|ed|ing)?|pour(?:s|ed)?|put(?:s|ting)?|commit(?:s|ted)?)\s+(?:\w+\s+){0,2}$",
                     re.IGNORECASE)
