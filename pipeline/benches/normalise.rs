//! Count normalisation throughput: the issue asks for at least 5 million count strings per
//! second on one core. The input mix follows what platforms send (reference §6).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use haoqi_model::count::parse_count;

const MIX: [&str; 16] = [
    "12345",
    "283417",
    "2743452015",
    "12,345",
    "1.3万",
    "12.6万",
    "2.3w",
    "1.2W",
    "10万+",
    "11w+",
    "1.58亿",
    "1亿+",
    "1.5k",
    "约1.2万",
    "１２３４５",
    "$undefined",
];

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("normalise");
    g.throughput(Throughput::Elements(MIX.len() as u64));
    g.bench_function("parse_count/mix16", |b| {
        b.iter(|| {
            for s in MIX {
                let _ = black_box(parse_count(black_box(s)));
            }
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_count/plain_integer", |b| {
        b.iter(|| black_box(parse_count(black_box("283417"))))
    });
    g.bench_function("parse_count/wan", |b| {
        b.iter(|| black_box(parse_count(black_box("12.6万"))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
