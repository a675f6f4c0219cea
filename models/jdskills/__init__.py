"""The job-description skill model: which named things a job description asks of a candidate."""
