"""Resident memory of a swapped network, stage by stage.

    python examples/memory.py [N] [--tstop MS] [--not-restorable] [--direct] [--batch B] [--connectivity P]
    python examples/memory.py N --reuse B

Builds ``neuron-ann bench``'s network of N cells of the shipped L5PC bundle's type (300 by
default: one synapse per contact site, NetStim inputs), then prints the process's resident
memory (VmRSS, Linux) and its peak so far after building, after ``swap_to_ann()`` and after a
run of ``--tstop`` ms, with the numbers the surrogate keeps per cell
(``SwapHandle.stats()["state_bytes_per_cell"]``). What the swap adds beyond the built network
is its records for ``swap_back`` (none with ``--not-restorable``) and a transient in NEURON
while sections are deleted; NEURON keeps most of the deleted cells' memory for reuse, so
resident memory after the swap stays near that of the built detailed network. With
``--batch B`` the network is built B cells at a time and each batch swapped before the next
is built (``swap_to_ann(cells=batch)`` adds them to the swap in effect), so NEURON reuses a
batch's freed memory for the next and the peak stays near that of one batch. ``--connectivity
P`` adds the bench's random links between the cells (each pair with probability P), made after
the last batch with ``neuron_ann.NetCon`` (which takes in NetCons onto swapped cells). With
``--reuse B`` it instead builds B batches of N detailed cells one after another, deleting all
but each batch's somas before the next (as a swap does), and prints resident memory after each
build and each deletion: how much of a deleted cell's memory NEURON reuses for the next.
"""
import argparse
import resource
import time

from neuron import h
from tqdm import tqdm

from neuron_ann.bench import _default_bundle, prepare_network
from neuron_ann.bridge import active_swap, swap_to_ann


def resident_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    with open("/proc/self/status") as f:
        current = next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024.0
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reuse(n: int, batches: int) -> None:
    from neuron_ann import mechanisms
    from neuron_ann.bench import _cell_class
    from neuron_ann.bridge.swap import _return_freed_memory
    from neuron_ann.bundle import load

    mechanisms.load()
    cls = _cell_class(load(_default_bundle()).meta)
    print(f"{resident_mb()[0]:.0f} MB resident before building")
    kept = []
    for batch in range(batches):
        cells = [cls() for _ in range(n)]
        built = resident_mb()[0]
        for cell in cells:
            for sec in [s for s in cell.all if s != cell.soma]:
                h.delete_section(sec=sec)
        _return_freed_memory()  # as swap_to_ann does
        kept += cells
        print(f"batch {batch}: {built:.0f} MB with {n} cells built, {resident_mb()[0]:.0f} MB after deleting all but their somas")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cells", nargs="?", type=int, default=300)
    ap.add_argument("--tstop", type=float, default=100.0)
    ap.add_argument("--not-restorable", action="store_true", help="swap_to_ann(restorable=False)")
    ap.add_argument("--direct", action="store_true", help="swap_to_ann(direct_delivery=True): no input capture per contact site")
    ap.add_argument("--batch", type=int, metavar="B", help="build B cells at a time, swapping each batch before the next")
    ap.add_argument("--reuse", type=int, metavar="B", help="build and delete B batches of N cells instead (no swap)")
    ap.add_argument("--connectivity", type=float, default=0.0, metavar="P", help="random links between the cells (as neuron-ann bench)")
    args = ap.parse_args()
    if args.reuse:
        reuse(args.cells, args.reuse)
        return
    start = resident_mb()[0]
    options = {"threads": 1, "restorable": not args.not_restorable, "direct_delivery": args.direct}
    if args.batch:
        from neuron_ann.bundle import load

        shipped = load(_default_bundle())
        t0 = time.perf_counter()
        progress = tqdm(total=args.cells, unit="cell", desc=f"build and swap in batches of {args.batch}")

        def swap_batch(cells):
            swap_to_ann(cells=cells, bundles=[shipped], **options)
            progress.update(len(cells))

        bundle, cells, keep = prepare_network(_default_bundle(), args.cells, args.connectivity, batch=args.batch,
                                             on_batch=swap_batch)
        progress.close()
        handle = active_swap()
        rows = [(f"batches of {args.batch}", *resident_mb())]
        print(f"built and swapped in {time.perf_counter() - t0:.0f} s")
    else:
        bundle, cells, keep = prepare_network(_default_bundle(), args.cells, args.connectivity)
        rows = [("built", *resident_mb())]
        handle = swap_to_ann(bundles=[bundle], **options)
        rows.append(("swapped", *resident_mb()))
    h.tstop = args.tstop
    h.finitialize(-65)
    rows.append(("initialized", *resident_mb()))
    h.continuerun(args.tstop)
    rows.append((f"ran {args.tstop:g} ms", *resident_mb()))
    (stats,) = handle.stats().values()
    print(f"{args.cells} {bundle.meta['cell_type']['name']} cells (restorable={not args.not_restorable}, "
          f"direct_delivery={args.direct}, connectivity {args.connectivity:g}); "
          f"{start:.0f} MB resident before building")
    print(f"{'stage':<17} {'resident MB':>12} {'peak MB':>9} {'MB per cell':>12}")
    for stage, current, peak in rows:
        print(f"{stage:<17} {current:>12.0f} {peak:>9.0f} {(current - start) / args.cells:>12.2f}")
    print(f"numbers the surrogate keeps per cell: {stats['state_bytes_per_cell'] / 1024:.1f} KB")


if __name__ == "__main__":
    main()
