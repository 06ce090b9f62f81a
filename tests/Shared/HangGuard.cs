using System.Runtime.ExceptionServices;
using NUnit.Framework;

namespace DaxStack.Tests.Shared;

/// <summary>
/// Runs a call that a regression could make wait for ever (a re-entry that waits for its own
/// thread) on a thread of its own, so the test fails after a bound instead of hanging the run.
/// </summary>
internal static class HangGuard
{
    /// <summary>The result of <paramref name="action"/>, or its exception; fails the test if it has not returned within <paramref name="bound"/>.</summary>
    public static T Run<T>(Func<T> action, TimeSpan bound)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true };
        thread.Start();
        if (!thread.Join(bound))
            Assert.Fail($"no return within {bound.TotalSeconds} s: the re-entry waits for its own thread");
        if (failure != null)
            ExceptionDispatchInfo.Throw(failure);
        return result;
    }
}
