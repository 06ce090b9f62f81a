using System.Runtime.InteropServices;

namespace DaxStack.Device.Platform;

/// <summary>
/// Retires the CPUs a thread was given (<see cref="PhysicalAddressSpace.CurrentCpu"/>) once the
/// thread has ended. Each thread that has a CPU gets one reaper, referenced only from a
/// thread-static field: when the thread ends the runtime drops its thread statics, the reaper
/// becomes garbage, and its finalizer retires the thread's CPUs. It holds them weakly, so that a
/// long-lived thread does not keep alive the address spaces it once used (a space holds its live
/// CPUs itself; once it is collected there is nothing left to retire).
/// </summary>
/// <remarks>
/// The weak references are GC handles the reaper owns, not <see cref="WeakReference{T}"/>
/// objects: those have finalizers of their own, which the garbage collector may run before the
/// reaper's (all of them become garbage together), clearing the references the reaper needs.
/// </remarks>
internal sealed class ThreadCpuReaper
{
    [ThreadStatic]
    private static ThreadCpuReaper? t_reaper;

    private readonly List<GCHandle> _cpus = [];

    /// <summary>Notes that <paramref name="cpu"/> is the calling thread's, to be retired when the thread ends; returns it.</summary>
    public static Cpu Register(Cpu cpu)
    {
        var reaper = t_reaper ??= new ThreadCpuReaper();
        var cpus = reaper._cpus;
        // A thread that uses many spaces in turn (a test runner's) would otherwise keep a handle
        // for each: free those whose CPU is gone whenever the list would grow.
        if (cpus.Count == cpus.Capacity)
        {
            cpus.RemoveAll(h =>
            {
                if (h.Target != null)
                    return false;
                h.Free();
                return true;
            });
        }
        cpus.Add(GCHandle.Alloc(cpu, GCHandleType.Weak));
        return cpu;
    }

    ~ThreadCpuReaper()
    {
        foreach (var handle in _cpus)
        {
            try
            {
                if (handle.Target is Cpu cpu)
                    cpu.Space.RetireEndedThreadCpu(cpu);
            }
            catch (Exception)
            {
                // A finalizer must not throw (it would end the process); a CPU that cannot be
                // retired stays in its platform, as a live thread's does.
            }
            finally
            {
                handle.Free();
            }
        }
    }
}
