using System;
using System.Text;

namespace Polyipc.Tests
{
    /// <summary>
    /// Put(string) is encoded to UTF-8 by the glue and Take() widens ASCII messages there (csharp.i:
    /// polyipc_cs_queue_put_utf16 / _get_into, 16 characters a step): every length around the step,
    /// with non-ASCII characters of each UTF-8 width at every position, must match UTF8Encoding.
    /// </summary>
    public class TextCodingTests : Scratch
    {
        private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);

        [Test]
        public void StringsRoundTripAsUtf8AroundTheAsciiSteps()
        {
            var utf8 = new UTF8Encoding(false, true);
            string[] odd = { "\u00e9", "\u20ac", "\ud83d\ude00", "\u007f", "\u0080", "\uffff" };
            using (var q = NewQueue("text", new QueueOptions { Format = MessageFormat.Bytes }))
            {
                for (int len = 0; len <= 40; len++)
                {
                    string ascii = new string('a', len);
                    q.Put(ascii);
                    Assert.Equal(ascii, q.Take(Short), "ASCII of " + len);
                    for (int at = 0; at < len; at += (len > 20 ? 3 : 1))
                    {
                        foreach (string o in odd)
                        {
                            string s = ascii.Substring(0, at) + o + ascii.Substring(at);
                            q.Put(s);
                            byte[] got = q.TakeBytes(Short);
                            Assert.Equal(Convert.ToBase64String(utf8.GetBytes(s)), Convert.ToBase64String(got),
                                "UTF-8 of " + len + " with U+" + ((int)o[0]).ToString("X4") + " at " + at);
                            q.Put(s);
                            Assert.Equal(s, q.Take(Short), "round trip of " + len + " at " + at);
                        }
                    }
                }
                Assert.Equal(0L, q.Count, "nothing left");
            }
        }

        [Test]
        public void LoneSurrogatesAndInvalidUtf8AreRejectedAsBefore()
        {
            using (var q = NewQueue("badtext", new QueueOptions { Format = MessageFormat.Bytes }))
            {
                foreach (string bad in new[] { "\ud800", "ab\udc00", new string('x', 20) + "\ud83d", "\ude00\ud83d" })
                {
                    Assert.Throws<ArgumentException>(() => q.Put(bad), "lone surrogate");
                    Assert.Equal(0L, q.Count, "nothing put");
                }
                q.PutBytes(new byte[] { 0x61, 0xff, 0x62 });
                Assert.Throws<PolyipcException>(() => q.Take(Short), "invalid UTF-8 taken as text");
            }
        }
    }
}
