"""Measure the demand text model: training time on synthetic demands made from the corpus, and the
time of one suggestion. Writes nothing to the database."""
import random
import statistics
import time

from django.core.management.base import BaseCommand

from demands import text_services, textmodel

OPENINGS = ["", "", "反映：", "班组职工反映", "我想问一下，", "多名职工提出", "关于", "再次反映"]
ENDINGS = ["", "。请相关部门研究解决。", "，希望尽快答复。", "，班组职工普遍反映。", "，已经反映过两次。", "，请予以协调。"]


def synthetic(n: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """n demands: corpus titles with varied openings, endings and one dropped character, so that
    the vocabulary grows like real text does."""
    rng = random.Random(seed)
    corpus = textmodel.corpus_rows()
    texts, labels = [], []
    for _ in range(n):
        row = rng.choice(corpus)
        title = row["title"]
        if len(title) > 6:
            cut = rng.randrange(len(title))
            title = title[:cut] + title[cut + 1:]
        texts.append(textmodel.text_of(rng.choice(OPENINGS) + title, title + rng.choice(ENDINGS)))
        labels.append(row["category"])
    return texts, labels


class Command(BaseCommand):
    help = "Time training on N synthetic demands (default 100,000) and one suggestion (median of 200)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)

    def handle(self, rows, **options):
        texts, labels = synthetic(rows)
        # Wall time and this process's CPU time: on a shared machine the wall time says as much
        # about the other jobs as about this one.
        started, cpu = time.perf_counter(), time.process_time()
        textmodel.fit(texts, labels)
        self.stdout.write(f"training on {rows} demands: {time.perf_counter() - started:.1f} s "
                          f"({time.process_time() - cpu:.1f} s CPU)")
        text_services.suggest("预热")  # loads the current model once
        timings, cpu_timings = [], []
        for text in texts[:200]:
            started, cpu = time.perf_counter(), time.process_time()
            text_services.suggest(text[:30], text[30:])
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu) * 1000)
        self.stdout.write(f"one suggestion (with its database reads): median {statistics.median(timings):.1f} ms, "
                          f"max {max(timings):.1f} ms; CPU median {statistics.median(cpu_timings):.1f} ms, "
                          f"max {max(cpu_timings):.1f} ms")
