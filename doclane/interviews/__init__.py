"""The interview application: what a job needs, what a candidate shows, and the interview.

Built on the pipeline's results: a job description and a resume are ordinary uploads
whose chunks carry their text, sections and named entities (skills, job titles).
"""

from doclane.interviews.assessment import ASSESSMENT_VERSION, assess

__all__ = ["ASSESSMENT_VERSION", "assess"]
