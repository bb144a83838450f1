"""What every published figure is, said once: the statements pages, embeds, images, exports,
decks and the API carry beside the numbers.

Plain text only, so that the API, the data files and the dashboard say the same thing in the
same words.
"""

from __future__ import annotations

from analysis.summary import LOW_BASE

INTERVALS = ("95% intervals as if respondents were a random sample; this survey (like the US "
             "one) is self-selected, so they show the play of chance only, not how far "
             "respondents differ from everyone in the profession.")
ROUNDING = ("Percentages are rounded once, to one decimal place, halves away from zero, from "
            "the exact counts; they may not add up to 100.")
LOW_BASE_NOTE = (f"Low base: fewer than {LOW_BASE} answered; shown, but the figure is "
                 "uncertain and moves as responses arrive.")
MULTIPLE_TESTING = ("The six UK–US comparisons are tested together: a difference is called "
                    "clear only when its p-value (score test), adjusted by Holm's method over "
                    "the six, is below 0.05. The intervals are each plain 95% intervals.")
APPROXIMATE = ("An approximate US figure is shown as the range its wording allows, and its "
               "difference as a range in whole points.")
DAYS = "Days are days in the UK (Europe/London), as respondents saw them."
US_WORDING = ("US question wordings are this project's paraphrase of the paper's description, "
              "not the questionnaire's own words.")

BASES = ("Percentages are of those who answered the question. With no filter, everyone "
         "published is counted, those who left question 2 blank among them; a filter by role "
         "or by question 2 counts only those who answered question 2, and question 1 is always "
         "of those who answered question 2.")


def base_words(base: int, everyone: bool) -> str:
    """Who is in a question's base: those who answered it, and (in a view filtered by role or
    by question 2) question 2 as well."""
    if everyone:
        return f"{base:,} who answered this question"
    return f"{base:,} who answered this question and question 2"
